//! A real PostgreSQL server for the tests: one throwaway server per test process, and a fresh,
//! empty database per test.
//!
//! The election service stores its data in SQLite or PostgreSQL, and its tests run against both.
//! The PostgreSQL half talks to a real server, never a mock:
//!
//! - when `TABELLA_TEST_POSTGRES_URL` is set (a server URL with a superuser, e.g.
//!   `postgres://USER:PASSWORD@127.0.0.1:5432/postgres`), the tests use that server;
//! - otherwise the first test that asks for a database starts a private server for the whole
//!   test process: `initdb` into a temporary directory, then `postgres` on a free loopback port,
//!   reachable only over TCP on 127.0.0.1 and a socket in that directory, with password
//!   authentication for a superuser `tabella` whose password is generated afresh. PostgreSQL
//!   refuses to run as root, so when the tests run as root (as in CI) the server runs as the
//!   `postgres` system user that the Debian package creates, through `runuser` (or `su`).
//!
//! The server never outlives the test process: a small watchdog shell, started alongside it,
//! holds the read end of a pipe whose write end only the test process has. When the test
//! process ends, however it ends (normal exit, a panic, `SIGKILL`), the pipe closes, and the
//! watchdog stops the server (an immediate shutdown) and removes its temporary directory.
//!
//! The programs come from `/usr/lib/postgresql/*/bin` (the highest version; where Debian puts
//! them) or else from `PATH`. On Debian and Ubuntu: `apt-get install postgresql`.
//!
//! ```no_run
//! use tabella_tests::postgres;
//!
//! // Some(db) with PostgreSQL; None (and a loud note on stderr) without it, unless CI=true or
//! // TABELLA_REQUIRE_POSTGRES=1, which turn its absence into a failure.
//! if let Some(db) = postgres::database_or_skip("my_test") {
//!     let url = db.url(); // postgres://tabella:…@127.0.0.1:PORT/tabella_test_…
//!     # let _ = url;
//! } // the database is dropped here
//! ```

use std::env;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::process::free_port;

/// The environment variable that points the tests at an existing server instead of a private
/// one: a URL with a superuser (or a role allowed to create databases), such as
/// `postgres://USER:PASSWORD@127.0.0.1:5432/postgres`.
pub const SERVER_URL_ENV: &str = "TABELLA_TEST_POSTGRES_URL";

/// The environment variable that, set to `1`, makes a missing PostgreSQL a test failure rather
/// than a skip (as `CI=true` does).
pub const REQUIRE_ENV: &str = "TABELLA_REQUIRE_POSTGRES";

/// How to get PostgreSQL, for the error messages.
const INSTALL_HINT: &str = "install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`), \
     or set TABELLA_TEST_POSTGRES_URL to a server URL with a superuser, \
     e.g. postgres://USER:PASSWORD@127.0.0.1:5432/postgres";

/// The superuser of a private server.
const SUPERUSER: &str = "tabella";

/// The system user a private server runs as when the tests run as root.
const SYSTEM_USER: &str = "postgres";

/// How long a private server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How many ports to try when another process takes the chosen free port before the server
/// binds it.
const PORT_ATTEMPTS: usize = 5;

/// How many lines of the server log an error message quotes.
const LOG_TAIL_LINES: usize = 30;

/// The watchdog that stops a private server when the test process ends. `$1` is the server's
/// temporary directory (`$1/data` its data directory). Its standard input is a pipe that only the
/// test process can write to, and never does: `read` returns at end of file, that is once the
/// test process has exited, however it exited. It then sends the postmaster SIGQUIT (an
/// immediate shutdown: the data is thrown away anyway), escalates to SIGKILL after 10 s, and
/// removes the directory. It ignores SIGINT and SIGHUP, and runs in its own process group, so
/// that a Ctrl-C on the test run does not kill it before it has cleaned up.
const WATCHDOG: &str = r#"
trap '' INT HUP
while read -r _; do :; done
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
case "$pid" in
    ''|*[!0-9]*) ;;
    *)
        # Only a postgres process: a stale pid file may name a recycled pid.
        comm=$(cat "/proc/$pid/comm" 2>/dev/null || echo postgres)
        case "$comm" in
            postgres*)
                kill -QUIT "$pid" 2>/dev/null
                i=0
                while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
                    sleep 0.1
                    i=$((i + 1))
                done
                kill -KILL "$pid" 2>/dev/null
                ;;
        esac
        ;;
esac
rm -rf "$1"
"#;

/// Why the tests could not get a PostgreSQL database. The message says what is missing and how
/// to get it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PostgresUnavailable {
    /// A PostgreSQL program is not installed.
    #[error(
        "PostgreSQL is not installed: `{program}` was found neither under \
         /usr/lib/postgresql/*/bin nor on PATH; {hint}",
        hint = INSTALL_HINT
    )]
    NotInstalled {
        /// The missing program (`initdb`, `postgres` or `psql`).
        program: &'static str,
    },
    /// The tests run as root, and there is no `postgres` system user to run the server as.
    #[error(
        "the tests run as root, which PostgreSQL refuses, and there is no `postgres` system \
         user to run the server as instead (the Debian package creates it); {hint}",
        hint = INSTALL_HINT
    )]
    NoSystemUser,
    /// A private server could not be set up or started.
    #[error("the tests' private PostgreSQL server could not be started: {reason}")]
    Start {
        /// What failed, with the output or the log tail of the program that failed.
        reason: String,
    },
    /// The server was there but could not be used: connecting, or creating a database, failed.
    #[error("the PostgreSQL server {server} could not be used: {reason}")]
    Server {
        /// The server's URL, without its password.
        server: String,
        /// What failed, with `psql`'s message.
        reason: String,
    },
}

/// A fresh, empty database on the shared test PostgreSQL server. Dropping it drops the database
/// (best effort: a failure is reported on stderr, not raised).
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    name: String,
    server: &'static Server,
}

impl TestDatabase {
    /// Creates a new, uniquely named database (`tabella_test_{pid}_{counter}_{random}`) on the
    /// shared test server, starting that server first if this is the process's first database.
    pub fn create() -> Result<TestDatabase, PostgresUnavailable> {
        let server = server()?;
        let name = unique_database_name();
        server
            .admin(&format!("CREATE DATABASE \"{name}\""))
            .map_err(|reason| server.unusable(format!("CREATE DATABASE {name}: {reason}")))?;
        Ok(TestDatabase {
            url: server.url.with_database(&name),
            name,
            server,
        })
    }

    /// The database's URL, `postgres://USER:PASSWORD@127.0.0.1:PORT/DBNAME`, for sqlx or `psql`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs SQL on this database with `psql` and returns its unaligned, tuples-only output,
    /// trimmed (`select 1` gives `"1"`): a way for tests to look at the database from outside
    /// the code under test.
    pub fn psql(&self, sql: &str) -> io::Result<String> {
        run_psql(&self.server.psql, &self.url, sql)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = &self.name;
        if let Err(err) = self
            .server
            .admin(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        {
            eprintln!("tabella-tests: warning: could not drop the test database {name}: {err}");
        }
    }
}

/// Like [`TestDatabase::create`], for the tests that run against both SQLite and PostgreSQL:
/// when PostgreSQL cannot be provided, it panics with the reason if `CI=true` or
/// `TABELLA_REQUIRE_POSTGRES=1` (so that CI never skips silently), and otherwise returns `None`
/// after a loud note on stderr that the PostgreSQL half of `test` was skipped, and how to
/// install PostgreSQL.
pub fn database_or_skip(test: &str) -> Option<TestDatabase> {
    match TestDatabase::create() {
        Ok(database) => Some(database),
        Err(err) => {
            if let Some(why) = postgres_required() {
                panic!("{test}: PostgreSQL is required ({why}) but unavailable: {err}");
            }
            let rule = "=".repeat(100);
            eprintln!(
                "\n{rule}\n\
                 NOTE: {test}: SKIPPED the PostgreSQL half of this test.\n\
                 {err}\n\
                 To run it: `sudo apt-get install postgresql` (Debian/Ubuntu), or set \
                 {SERVER_URL_ENV}=postgres://USER:PASSWORD@HOST:PORT/postgres.\n\
                 Set {REQUIRE_ENV}=1 to make a missing PostgreSQL a failure (CI=true does).\n\
                 {rule}\n"
            );
            None
        }
    }
}

/// Runs SQL with `psql` on the database at `url` and returns its unaligned, tuples-only output,
/// trimmed. The error carries `psql`'s message.
pub fn psql(url: &str, sql: &str) -> io::Result<String> {
    let psql = find_psql().map_err(|err| io::Error::new(io::ErrorKind::NotFound, err))?;
    run_psql(&psql, url, sql)
}

/// Why a missing PostgreSQL must fail the tests, if it must.
fn postgres_required() -> Option<&'static str> {
    if env::var(REQUIRE_ENV).is_ok_and(|v| v.trim() == "1") {
        Some("TABELLA_REQUIRE_POSTGRES=1")
    } else if env::var("CI").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        Some("CI=true")
    } else {
        None
    }
}

/// The process's server, started (or checked, for `TABELLA_TEST_POSTGRES_URL`) on first use.
/// A failure is remembered too, so that every test does not pay for it again.
fn server() -> Result<&'static Server, PostgresUnavailable> {
    static SERVER: OnceLock<Result<Server, PostgresUnavailable>> = OnceLock::new();
    SERVER
        .get_or_init(|| match env::var(SERVER_URL_ENV) {
            Ok(url) if !url.trim().is_empty() => Server::external(url.trim()),
            _ => Server::start(),
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// A PostgreSQL server the tests create their databases on.
#[derive(Debug)]
struct Server {
    /// The server's URL, split so that other databases' URLs can be made from it.
    url: ServerUrl,
    /// The `psql` that talks to it.
    psql: PathBuf,
    /// For a private server, what keeps it running for the life of the process.
    _private: Option<PrivateServer>,
}

/// What a private server needs kept alive. It sits in a `static`, so it is never dropped: the
/// watchdog, not `Drop`, stops the server and removes the directory when the process ends.
#[derive(Debug)]
struct PrivateServer {
    /// The temporary directory (data directory, socket directory, log).
    _dir: TempDir,
    /// The server process (`postgres`, or `runuser` running it).
    _server: Child,
    /// The watchdog process.
    _watchdog: Child,
    /// The write end of the watchdog's standard input: closing it (when the process ends) tells
    /// the watchdog to stop the server.
    _watchdog_pipe: ChildStdin,
}

impl Server {
    /// Uses the server at `url` (from `TABELLA_TEST_POSTGRES_URL`), once it answers.
    fn external(url: &str) -> Result<Server, PostgresUnavailable> {
        let url = ServerUrl::parse(url).map_err(|reason| PostgresUnavailable::Server {
            server: format!("from {SERVER_URL_ENV}"),
            reason,
        })?;
        let server = Server {
            url,
            psql: find_psql()?,
            _private: None,
        };
        server
            .admin("select 1")
            .map_err(|reason| server.unusable(reason))?;
        Ok(server)
    }

    /// Sets up and starts a private server, as described in the module documentation.
    fn start() -> Result<Server, PostgresUnavailable> {
        let started = Instant::now();
        let programs = Programs::find()?;
        let run_as = RunAs::detect()?;
        let start_error = |reason: String| PostgresUnavailable::Start { reason };

        // The directory must be reachable by the `postgres` user when the server runs as it:
        // under /tmp rather than a TMPDIR that may sit in root's private home.
        let parent = match run_as {
            RunAs::CurrentUser => env::temp_dir(),
            RunAs::Runuser(_) | RunAs::Su(_) => PathBuf::from("/tmp"),
        };
        let dir = tempfile::Builder::new()
            .prefix("tabella-postgres-")
            .tempdir_in(&parent)
            .map_err(|err| {
                start_error(format!(
                    "cannot create a temporary directory in {parent:?}: {err}"
                ))
            })?;
        let data = dir.path().join("data");
        let sockets = dir.path().join("sockets");
        let log_path = dir.path().join("server.log");
        let pwfile = dir.path().join("pwfile");
        let password = random_hex(16);

        // The watchdog comes first, so that the directory goes whatever happens from here on.
        let (watchdog, watchdog_pipe) = spawn_watchdog(dir.path())
            .map_err(|err| start_error(format!("cannot start the watchdog (`sh`): {err}")))?;

        fs::create_dir(&sockets)
            .and_then(|()| fs::write(&pwfile, format!("{password}\n")))
            .map_err(|err| start_error(format!("cannot prepare {:?}: {err}", dir.path())))?;
        if run_as.is_other_user() {
            let status = Command::new("chown")
                .arg("-R")
                .arg(format!("{SYSTEM_USER}:"))
                .arg(dir.path())
                .status()
                .map_err(|err| start_error(format!("cannot run `chown`: {err}")))?;
            if !status.success() {
                return Err(start_error(format!(
                    "`chown -R {SYSTEM_USER}: {}` failed ({status})",
                    dir.path().display()
                )));
            }
        }

        // SCRAM needs PostgreSQL 14's default password_encryption; older servers store MD5.
        let auth = if programs.major_version >= 14 {
            "scram-sha-256"
        } else {
            "md5"
        };
        let mut initdb_args: Vec<OsString> = vec!["-D".into(), data.clone().into()];
        initdb_args.extend(
            [
                "-U",
                SUPERUSER,
                "--auth",
                auth,
                "-E",
                "UTF8",
                "--locale=C",
                // No fsync of the new cluster: it is thrown away with the test process.
                "--no-sync",
            ]
            .map(OsString::from),
        );
        initdb_args.push(concat_os("--pwfile=", &pwfile));
        let initdb = run_as
            .command(&programs.initdb, &initdb_args)
            .current_dir(dir.path())
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .output()
            .map_err(|err| {
                start_error(format!("cannot run {}: {err}", programs.initdb.display()))
            })?;
        if !initdb.status.success() {
            return Err(start_error(format!(
                "{} failed ({}) as {}:\n{}{}",
                programs.initdb.display(),
                initdb.status,
                run_as.user_name(),
                String::from_utf8_lossy(&initdb.stdout),
                String::from_utf8_lossy(&initdb.stderr),
            )));
        }
        // Best effort: the password stays in the URLs anyway.
        let _ = fs::remove_file(&pwfile);

        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port()
                .map_err(|err| start_error(format!("cannot find a free port: {err}")))?;
            let url = ServerUrl {
                prefix: format!("postgres://{SUPERUSER}:{password}@127.0.0.1:{port}"),
                database: "postgres".to_owned(),
                query: String::new(),
            };
            let mut server =
                spawn_postgres(&programs, &run_as, dir.path(), &sockets, &log_path, port).map_err(
                    |err| start_error(format!("cannot run {}: {err}", programs.postgres.display())),
                )?;
            match wait_until_ready(&mut server, &programs.psql, &url, port) {
                Ok(version) => {
                    eprintln!(
                        "tabella-tests: PostgreSQL {version} started in {:.2} s on \
                         127.0.0.1:{port} as {}, in {} (stopped when this test process ends)",
                        started.elapsed().as_secs_f64(),
                        run_as.user_name(),
                        dir.path().display(),
                    );
                    return Ok(Server {
                        url,
                        psql: programs.psql,
                        _private: Some(PrivateServer {
                            _dir: dir,
                            _server: server,
                            _watchdog: watchdog,
                            _watchdog_pipe: watchdog_pipe,
                        }),
                    });
                }
                Err(failure) => {
                    stop_postgres(&data, &mut server);
                    let log = log_tail(&log_path);
                    let port_taken = matches!(failure, StartFailure::Exited(_))
                        && (log.contains("could not bind") || log.contains("already in use"));
                    if port_taken && attempt < PORT_ATTEMPTS {
                        continue;
                    }
                    return Err(start_error(format!(
                        "{} {} on 127.0.0.1:{port} as {}; the end of its log ({}):\n{log}",
                        programs.postgres.display(),
                        failure,
                        run_as.user_name(),
                        log_path.display(),
                    )));
                }
            }
        }
    }

    /// Runs SQL on the server's maintenance database; the error is `psql`'s message.
    fn admin(&self, sql: &str) -> Result<String, String> {
        run_psql(&self.psql, &self.url.admin_url(), sql).map_err(|err| err.to_string())
    }

    /// The error for a server that failed to do what the tests asked.
    fn unusable(&self, reason: String) -> PostgresUnavailable {
        PostgresUnavailable::Server {
            server: self.url.redacted(),
            reason,
        }
    }
}

/// A server URL, `scheme://authority/database?query`, split so that the URLs of other databases
/// on the same server can be made from it.
#[derive(Debug)]
struct ServerUrl {
    /// `scheme://user:password@host:port`.
    prefix: String,
    /// The database to connect to for administration (`postgres` when the URL names none).
    database: String,
    /// `?...` or empty.
    query: String,
}

impl ServerUrl {
    fn parse(url: &str) -> Result<ServerUrl, String> {
        let (scheme, rest) = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "postgres" | "postgresql"))
            .ok_or_else(|| "not a postgres:// URL".to_owned())?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(authority_end);
        let path = rest.strip_prefix('/').unwrap_or(rest);
        let (database, query) = path.split_at(path.find('?').unwrap_or(path.len()));
        Ok(ServerUrl {
            prefix: format!("{scheme}://{authority}"),
            database: if database.is_empty() {
                "postgres".to_owned()
            } else {
                database.to_owned()
            },
            query: query.to_owned(),
        })
    }

    fn with_database(&self, database: &str) -> String {
        format!("{}/{database}{}", self.prefix, self.query)
    }

    fn admin_url(&self) -> String {
        self.with_database(&self.database)
    }

    /// The URL of the maintenance database, without the password.
    fn redacted(&self) -> String {
        let url = self.admin_url();
        let Some((scheme, rest)) = url.split_once("://") else {
            return url;
        };
        match rest.rsplit_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => url.clone(),
            },
            None => url.clone(),
        }
    }
}

/// The PostgreSQL programs a private server needs.
#[derive(Debug)]
struct Programs {
    initdb: PathBuf,
    postgres: PathBuf,
    psql: PathBuf,
    /// The major version, from `initdb --version`.
    major_version: u32,
}

impl Programs {
    /// `initdb` and `postgres` from the highest `/usr/lib/postgresql/*/bin` that has them both,
    /// otherwise from `PATH`; `psql` next to them if it is there.
    fn find() -> Result<Programs, PostgresUnavailable> {
        let dir = versioned_bin_dirs()
            .into_iter()
            .find(|dir| is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres")));
        let (initdb, postgres) = match dir {
            Some(dir) => (dir.join("initdb"), dir.join("postgres")),
            None => {
                let initdb = on_path("initdb")
                    .ok_or(PostgresUnavailable::NotInstalled { program: "initdb" })?;
                let beside = initdb.with_file_name("postgres");
                let postgres = if is_executable(&beside) {
                    beside
                } else {
                    on_path("postgres").ok_or(PostgresUnavailable::NotInstalled {
                        program: "postgres",
                    })?
                };
                (initdb, postgres)
            }
        };
        let beside = initdb.with_file_name("psql");
        let psql = if is_executable(&beside) {
            beside
        } else {
            find_psql()?
        };
        let version = Command::new(&initdb)
            .arg("--version")
            .output()
            .map_err(|err| PostgresUnavailable::Start {
                reason: format!("cannot run {}: {err}", initdb.display()),
            })?;
        let version = String::from_utf8_lossy(&version.stdout);
        // "initdb (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        let major_version = version
            .split_whitespace()
            .find_map(|word| word.split('.').next()?.parse().ok())
            .unwrap_or(0);
        Ok(Programs {
            initdb,
            postgres,
            psql,
            major_version,
        })
    }
}

/// `psql`, from the highest `/usr/lib/postgresql/*/bin` or from `PATH`.
fn find_psql() -> Result<PathBuf, PostgresUnavailable> {
    versioned_bin_dirs()
        .into_iter()
        .map(|dir| dir.join("psql"))
        .find(|psql| is_executable(psql))
        .or_else(|| on_path("psql"))
        .ok_or(PostgresUnavailable::NotInstalled { program: "psql" })
}

/// The `bin` directories of `/usr/lib/postgresql/VERSION/`, highest version first.
fn versioned_bin_dirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut dirs: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name();
            let version = name
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.is_dir())
        .collect();
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    dirs.into_iter().map(|(_, bin)| bin).collect()
}

/// `program` on `PATH`, or in the system directories (`runuser` lives in `/usr/sbin`, which a
/// non-login `PATH` may lack).
fn on_path(program: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Who runs `initdb` and `postgres`.
#[derive(Debug)]
enum RunAs {
    /// The current user, who is not root.
    CurrentUser,
    /// The `postgres` system user, through `runuser -u postgres --` (we are root).
    Runuser(PathBuf),
    /// The `postgres` system user, through `su postgres -s /bin/sh -c` (we are root, and
    /// `runuser` is missing).
    Su(PathBuf),
}

impl RunAs {
    fn detect() -> Result<RunAs, PostgresUnavailable> {
        if effective_uid() != Some(0) {
            return Ok(RunAs::CurrentUser);
        }
        let user_exists = Command::new("id")
            .args(["-u", SYSTEM_USER])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !user_exists {
            return Err(PostgresUnavailable::NoSystemUser);
        }
        if let Some(runuser) = on_path("runuser") {
            Ok(RunAs::Runuser(runuser))
        } else if let Some(su) = on_path("su") {
            Ok(RunAs::Su(su))
        } else {
            Err(PostgresUnavailable::Start {
                reason: format!(
                    "the tests run as root, which PostgreSQL refuses, and neither `runuser` nor \
                     `su` is available to run it as `{SYSTEM_USER}` (Debian: apt-get install \
                     util-linux)"
                ),
            })
        }
    }

    fn is_other_user(&self) -> bool {
        !matches!(self, RunAs::CurrentUser)
    }

    fn user_name(&self) -> String {
        match self {
            RunAs::CurrentUser => env::var("USER").unwrap_or_else(|_| "the current user".into()),
            RunAs::Runuser(_) | RunAs::Su(_) => SYSTEM_USER.to_owned(),
        }
    }

    /// A command that runs `program` with `args` as this user.
    fn command(&self, program: &Path, args: &[OsString]) -> Command {
        match self {
            RunAs::CurrentUser => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
            RunAs::Runuser(runuser) => {
                let mut command = Command::new(runuser);
                command
                    .args(["-u", SYSTEM_USER, "--"])
                    .arg(program)
                    .args(args);
                command
            }
            RunAs::Su(su) => {
                let script = std::iter::once(program.as_os_str())
                    .chain(args.iter().map(OsString::as_os_str))
                    .map(|word| shell_quote(&word.to_string_lossy()))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut command = Command::new(su);
                command
                    .args([SYSTEM_USER, "-s", "/bin/sh", "-c"])
                    .arg(format!("exec {script}"));
                command
            }
        }
    }
}

/// The effective user id, from `/proc/self/status` or else `id -u`.
fn effective_uid() -> Option<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        if let Some(uids) = status.lines().find_map(|line| line.strip_prefix("Uid:")) {
            // Real, effective, saved and filesystem ids.
            return uids.split_whitespace().nth(1)?.parse().ok();
        }
    }
    let output = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn concat_os(prefix: &str, path: &Path) -> OsString {
    let mut arg = OsString::from(prefix);
    arg.push(path.as_os_str());
    arg
}

/// Starts the watchdog for the server in `dir`; returns it and the write end of its pipe.
fn spawn_watchdog(dir: &Path) -> io::Result<(Child, ChildStdin)> {
    let mut watchdog = Command::new("/bin/sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("tabella-postgres-watchdog")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    let pipe = watchdog
        .stdin
        .take()
        .ok_or_else(|| io::Error::other("the watchdog has no standard input pipe"))?;
    Ok((watchdog, pipe))
}

/// Starts `postgres` on `port`, its output going to the log file.
fn spawn_postgres(
    programs: &Programs,
    run_as: &RunAs,
    dir: &Path,
    sockets: &Path,
    log_path: &Path,
    port: u16,
) -> io::Result<Child> {
    let log = File::create(log_path)?;
    let mut args: Vec<OsString> = vec!["-D".into(), dir.join("data").into()];
    args.extend(
        [
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            // Test speed over durability: the data is thrown away with the test process, so
            // the server never waits for the disk (a crash of the machine could corrupt it,
            // which does not matter here).
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            // Room for the connection pools of many tests running in parallel.
            "-c",
            "max_connections=300",
            "-k",
        ]
        .map(OsString::from),
    );
    args.push(sockets.into());
    run_as
        .command(&programs.postgres, &args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Out of the terminal's process group: a Ctrl-C stops the tests, then the watchdog
        // stops the server.
        .process_group(0)
        .spawn()
}

/// Why a server did not come up.
#[derive(Debug)]
enum StartFailure {
    /// It exited.
    Exited(ExitStatus),
    /// It did not accept connections in time.
    Timeout,
    /// Waiting for it failed.
    Wait(io::Error),
}

impl std::fmt::Display for StartFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartFailure::Exited(status) => write!(f, "exited ({status})"),
            StartFailure::Timeout => write!(
                f,
                "did not accept connections within {} s",
                START_TIMEOUT.as_secs()
            ),
            StartFailure::Wait(err) => write!(f, "could not be watched ({err})"),
        }
    }
}

/// Waits until the server accepts TCP connections and answers a query as the superuser;
/// returns its version.
fn wait_until_ready(
    server: &mut Child,
    psql: &Path,
    url: &ServerUrl,
    port: u16,
) -> Result<String, StartFailure> {
    let deadline = Instant::now() + START_TIMEOUT;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    loop {
        match server.try_wait() {
            Ok(Some(status)) => return Err(StartFailure::Exited(status)),
            Ok(None) => {}
            Err(err) => return Err(StartFailure::Wait(err)),
        }
        // Another process may hold the port: then only the query fails, until the server
        // exits for want of it.
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            if let Ok(version) = run_psql(psql, &url.admin_url(), "show server_version") {
                return Ok(version);
            }
        }
        if Instant::now() >= deadline {
            return Err(StartFailure::Timeout);
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Stops a server that failed to come up (it may still be running after a timeout).
fn stop_postgres(data: &Path, server: &mut Child) {
    // `server` may be `runuser`: the postmaster is the pid in its pid file.
    if let Ok(pid_file) = fs::read_to_string(data.join("postmaster.pid")) {
        if let Some(pid) = pid_file
            .lines()
            .next()
            .filter(|pid| pid.parse::<u32>().is_ok())
        {
            let _ = Command::new("kill").args(["-QUIT", pid]).status();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while matches!(server.try_wait(), Ok(None)) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// The last lines of the server log.
fn log_tail(log_path: &Path) -> String {
    match fs::read_to_string(log_path) {
        Ok(log) => {
            let lines: Vec<&str> = log.lines().collect();
            lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
        }
        Err(err) => format!("(cannot read {}: {err})", log_path.display()),
    }
}

/// Runs SQL with `psql` on the database at `url`: unaligned, tuples only, no `.psqlrc`, stop at
/// the first error; returns the trimmed output.
fn run_psql(psql: &Path, url: &str, sql: &str) -> io::Result<String> {
    let output = Command::new(psql)
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(url)
        .arg("-c")
        .arg(sql)
        .env("PGCONNECT_TIMEOUT", "10")
        .env("PGAPPNAME", "tabella-tests")
        .stdin(Stdio::null())
        .output()?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(io::Error::other(format!(
            "psql failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// `tabella_test_{pid}_{counter}_{random}`: unique within the process by the counter, across
/// processes sharing a server by the pid, and across pid reuse by the random part.
fn unique_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "tabella_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        random_hex(4)
    )
}

/// `bytes` random bytes in hexadecimal, from `/dev/urandom`, or else from the standard
/// library's randomly keyed hasher (a password for a throwaway loopback server).
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    let from_urandom = File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if from_urandom.is_err() {
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in buf.chunks_mut(8).enumerate() {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_usize(i);
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            let word = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_split_and_redact() {
        let url = ServerUrl::parse("postgres://u:secret@127.0.0.1:5432/postgres?sslmode=disable")
            .expect("a valid URL");
        assert_eq!(
            url.with_database("db1"),
            "postgres://u:secret@127.0.0.1:5432/db1?sslmode=disable"
        );
        assert_eq!(
            url.redacted(),
            "postgres://u:***@127.0.0.1:5432/postgres?sslmode=disable"
        );
        let bare = ServerUrl::parse("postgresql://u@localhost").expect("a valid URL");
        assert_eq!(bare.admin_url(), "postgresql://u@localhost/postgres");
        assert!(ServerUrl::parse("mysql://u@localhost/x").is_err());
    }

    #[test]
    fn database_names_are_unique_and_plain() {
        let a = unique_database_name();
        let b = unique_database_name();
        assert_ne!(a, b);
        assert!(a.len() < 64, "within PostgreSQL's identifier limit: {a}");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
