//! What the harnesses that start a helper program (a Hardhat node, a chromedriver) share: a
//! watchdog that never lets the program outlive the test process, free loopback ports, `PATH`
//! look-ups and the "required under CI" rule.

use std::env;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};

use tempfile::TempDir;

/// The watchdog: `$1` is the log file, the rest the program's command line. It starts the
/// program in its own process group (`set -m`), waits for end of file on its standard input (the
/// test process has exited), then stops the group: SIGTERM, and SIGKILL after a second.
const WATCHDOG: &str = r#"
trap '' INT HUP
set -m
log=$1
shift
"$@" >"$log" 2>&1 &
pid=$!
while read -r _; do :; done
kill -TERM -"$pid" 2>/dev/null
sleep 1
kill -KILL -"$pid" 2>/dev/null
exit 0
"#;

/// A program running under the watchdog. It stops when this value is dropped or when the test
/// process ends, however it ends: the watchdog holds the read end of a pipe whose write end only
/// the test process has.
#[derive(Debug)]
pub struct Supervised {
    watchdog: Child,
    _pipe: ChildStdin,
    dir: TempDir,
}

impl Supervised {
    /// Starts `command` (its program and arguments; its working directory and environment are
    /// kept) under the watchdog, with its output in a log file of a new temporary directory
    /// named after `name`.
    ///
    /// # Errors
    /// When the directory or the watchdog (`bash`) cannot be created or started.
    pub fn spawn(name: &str, command: &Command) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("tabella-{name}-"))
            .tempdir()
            .map_err(|err| format!("cannot create a temporary directory: {err}"))?;
        let log = dir.path().join("output.log");
        let mut watchdog = Command::new("bash");
        watchdog
            .arg("-c")
            .arg(WATCHDOG)
            .arg(format!("{name}-watchdog"))
            .arg(&log)
            .arg(command.get_program())
            .args(command.get_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(cwd) = command.get_current_dir() {
            watchdog.current_dir(cwd);
        }
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => watchdog.env(key, value),
                None => watchdog.env_remove(key),
            };
        }
        let mut watchdog = watchdog
            .spawn()
            .map_err(|err| format!("cannot start the {name} watchdog (`bash`): {err}"))?;
        let pipe = watchdog
            .stdin
            .take()
            .ok_or_else(|| format!("the {name} watchdog has no standard input"))?;
        Ok(Self {
            watchdog,
            _pipe: pipe,
            dir,
        })
    }

    /// The watchdog's exit status, once it has exited (the program could not start, or died).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.watchdog.try_wait().ok().flatten()
    }

    /// A private directory that lives as long as the program.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last lines of the program's output, for error messages (empty when there are none).
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.path().join("output.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(20);
        if lines.is_empty() {
            String::new()
        } else {
            format!("; its output ends with:\n{}", lines[start..].join("\n"))
        }
    }
}

/// The program `program` on the `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    env::var_os("PATH").and_then(|paths| {
        env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

/// A loopback port free right now.
///
/// # Errors
/// When no socket can be bound.
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Why a harness's absence must fail the test rather than skip it: `require_env=1`, or
/// `CI=true`; `None` when neither is set.
pub fn required(require_env: &'static str) -> Option<&'static str> {
    if env::var(require_env).is_ok_and(|v| v == "1") {
        Some(require_env)
    } else if env::var("CI").is_ok_and(|v| v == "true") {
        Some("CI=true")
    } else {
        None
    }
}
