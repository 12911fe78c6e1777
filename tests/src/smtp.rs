//! A real SMTP server for tests: the Python sink `tests/smtp/smtp_sink.py` (aiosmtpd from
//! PyPI, hash-pinned in `tests/smtp/requirements.txt`, in the virtualenv `target/test-venv` that
//! `cargo xtask test` makes), started on loopback and stopped with the test; and self-signed
//! certificates for its TLS. Without that Python the tests that need the sink are skipped with a
//! note, unless `CI` or `TABELLA_REQUIRE_SMTP` is set, which makes its absence a failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

/// The Python interpreter for the sink: `TABELLA_TEST_PYTHON`, else the test virtualenv
/// that `cargo xtask test` and `.ci/run` make (`target/test-venv`).
pub fn python_candidate() -> PathBuf {
    match std::env::var_os("TABELLA_TEST_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv/bin/python"),
    }
}

/// The sink script: `TABELLA_SMTP_SINK`, else `smtp/smtp_sink.py` of this crate.
pub fn sink_script() -> PathBuf {
    match std::env::var_os("TABELLA_SMTP_SINK") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp/smtp_sink.py"),
    }
}

fn required() -> bool {
    ["CI", "TABELLA_REQUIRE_SMTP"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// A Python that can run the sink, or `None` (with a note) when there is none and it
/// is not required; panics when it is required (`CI` or `TABELLA_REQUIRE_SMTP` set).
pub fn python() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let py = python_candidate();
        let script = sink_script();
        if !script.is_file() {
            return Err(format!("sink script {} not found", script.display()));
        }
        match Command::new(&py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
        {
            Ok(s) if s.success() => Ok(py),
            Ok(_) => Err(format!("{} has no aiosmtpd", py.display())),
            Err(e) => Err(format!("cannot run {}: {e}", py.display())),
        }
    });
    match found {
        Ok(py) => Some(py.clone()),
        Err(why) if required() => panic!(
            "the SMTP tests are required (CI or TABELLA_REQUIRE_SMTP is set) but {why}; \
             install the sink's requirements (requirements.txt) and set \
             TABELLA_TEST_PYTHON"
        ),
        Err(why) => {
            // Once per test binary, and past the test harness's output capture.
            static NOTED: std::sync::Once = std::sync::Once::new();
            NOTED.call_once(|| {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stderr(),
                    "note: skipping the SMTP tests that need the Python sink: {why} \
                     (set TABELLA_TEST_PYTHON to a Python with aiosmtpd)"
                );
            });
            None
        }
    }
}

/// A running sink; stopped (stdin closed) when dropped.
pub struct Sink {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Sink {
    pub fn start(python: &Path, args: &[&str]) -> Sink {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(sink_script())
            .arg("--dir")
            .arg(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the SMTP sink did not start within 30 s");
            }
        };
        let port = line
            .trim()
            .strip_prefix("listening 127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("unexpected first line from the sink: {line:?}")
            });
        Sink {
            child: Some(child),
            stdin,
            port,
            dir,
        }
    }

    /// Closes the sink's stdin and waits for it to exit (killing it after 10 s).
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The accepted messages, in order of arrival.
    pub fn messages(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "eml")
                    && !p.file_name().unwrap().to_string_lossy().starts_with('.')
            })
            .collect();
        files.sort();
        files
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A message decoded by Python's `email` package (a standard parser, independent of
/// lettre): (From, To, Subject, body), headers decoded from RFC 2047.
pub struct Decoded {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

pub fn decode(python: &Path, eml: &Path) -> Decoded {
    const SCRIPT: &str = "import sys, email, email.policy\n\
        m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
        parts = [str(m['From']), str(m['To']), str(m['Subject']), m.get_content()]\n\
        sys.stdout.buffer.write('\\x1e'.join(parts).encode('utf-8'))\n";
    let out = Command::new(python)
        .args(["-c", SCRIPT])
        .arg(eml)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "decoding {}: {:?}",
        eml.display(),
        out
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parts = text.split('\u{1e}').map(str::to_owned);
    Decoded {
        from: parts.next().unwrap(),
        to: parts.next().unwrap(),
        subject: parts.next().unwrap(),
        body: parts.next().unwrap().replace("\r\n", "\n"),
    }
}

/// A certificate for `localhost` and `127.0.0.1` with its key, written as PEM files.
pub struct TestCert {
    pub _dir: tempfile::TempDir,
    pub cert_path: String,
    pub key_path: String,
    /// What the client trusts (the self-signed certificate itself, or the CA).
    pub trust_pem: Vec<u8>,
}

const NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

fn write(cert_pem: &str, key_pem: &str, trust_pem: Vec<u8>) -> TestCert {
    let dir = tempfile::tempdir().unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert_pem).unwrap();
    std::fs::write(&key_path, key_pem).unwrap();
    TestCert {
        cert_path: cert_path.to_string_lossy().into_owned(),
        key_path: key_path.to_string_lossy().into_owned(),
        _dir: dir,
        trust_pem,
    }
}

/// A self-signed server certificate.
pub fn self_signed() -> TestCert {
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names).unwrap();
    let pem = ck.cert.pem();
    write(
        &pem,
        &ck.signing_key.serialize_pem(),
        pem.clone().into_bytes(),
    )
}

/// A server certificate issued by a private CA; the CA is what the client trusts.
pub fn private_ca() -> TestCert {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Tabella test CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let names: Vec<String> = NAMES.iter().map(|s| s.to_string()).collect();
    let leaf_params = rcgen::CertificateParams::new(names).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &ca).unwrap();
    write(
        &leaf.pem(),
        &leaf_key.serialize_pem(),
        ca.pem().into_bytes(),
    )
}
