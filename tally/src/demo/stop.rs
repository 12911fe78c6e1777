//! Stopping the demo by a signal (SIGTERM, as a service manager sends, or Ctrl-C) without
//! leaving anything behind.
//!
//! [`Stop::watch`] starts a thread that waits for either signal for the whole run. When the
//! demo is waiting (voting held open by `--hold-open`, or serving after the election), the
//! signal ends the wait: the demo shuts its service down and returns, and its temporary data
//! directory (the database, the board key, the registrar's letters and codes) is removed as it
//! is dropped. When it arrives in the middle of a step, nothing can be finished in order, so the
//! watcher removes the temporary data directory itself and ends the process at once (exit code
//! 143, or 130 for Ctrl-C). A `--data-dir` the operator gave is never removed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Duration;

/// Which signal stopped the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM.
    Terminate,
    /// SIGINT (Ctrl-C).
    Interrupt,
}

impl Signal {
    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Terminate => "SIGTERM",
            Signal::Interrupt => "Ctrl-C (SIGINT)",
        }
    }

    /// The conventional exit code of a process ended by the signal (128 + its number).
    fn exit_code(self) -> i32 {
        match self {
            Signal::Terminate => 143,
            Signal::Interrupt => 130,
        }
    }
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    /// The time ran out.
    Elapsed,
    /// A signal came.
    Stopped(Signal),
}

/// The signal watcher of one demo run.
#[derive(Debug)]
pub struct Stop {
    waiting: Arc<AtomicBool>,
    signals: Receiver<Signal>,
}

impl Stop {
    /// Watches for SIGTERM and Ctrl-C from now on. `temporary`: the data directory to remove if a
    /// signal comes while the demo is not waiting (`None` for an operator's `--data-dir`).
    ///
    /// # Errors
    /// When the signal handlers cannot be installed.
    pub fn watch(temporary: Option<PathBuf>) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        // Installed here, before the run goes on, so that no signal is missed.
        let (mut terminate, mut interrupt) = runtime.block_on(async {
            let terminate =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            let interrupt =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
            Ok::<_, std::io::Error>((terminate, interrupt))
        })?;
        let waiting = Arc::new(AtomicBool::new(false));
        let (send, signals) = mpsc::channel();
        let watcher_waiting = Arc::clone(&waiting);
        std::thread::Builder::new()
            .name("demo-signals".into())
            .spawn(move || {
                runtime.block_on(async move {
                    loop {
                        let signal = tokio::select! {
                            Some(()) = terminate.recv() => Signal::Terminate,
                            Some(()) = interrupt.recv() => Signal::Interrupt,
                            else => return,
                        };
                        if watcher_waiting.load(Ordering::SeqCst) && send.send(signal).is_ok() {
                            continue;
                        }
                        eprintln!();
                        eprintln!("Stopped by {} in the middle of a step.", signal.name());
                        if let Some(dir) = &temporary {
                            match std::fs::remove_dir_all(dir) {
                                Ok(()) => eprintln!(
                                    "Removed the demo's temporary files ({}).",
                                    dir.display()
                                ),
                                Err(e) => eprintln!(
                                    "Could not remove the demo's temporary files in {}: {e}",
                                    dir.display()
                                ),
                            }
                        }
                        std::process::exit(signal.exit_code());
                    }
                });
            })?;
        Ok(Self { waiting, signals })
    }

    /// Waits `limit` (forever when `None`) or until a signal comes.
    pub fn wait(&self, limit: Option<Duration>) -> Waited {
        self.waiting.store(true, Ordering::SeqCst);
        // A signal that came just before the flag was set ended the process; one queued since
        // is answered here.
        let got = match limit {
            Some(limit) => self.signals.recv_timeout(limit),
            None => self
                .signals
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        self.waiting.store(false, Ordering::SeqCst);
        match (got, limit) {
            (Ok(signal), _) => Waited::Stopped(signal),
            (Err(RecvTimeoutError::Timeout), _) => Waited::Elapsed,
            // The watcher is gone (it never is while the process runs): wait out the time.
            (Err(RecvTimeoutError::Disconnected), Some(limit)) => {
                std::thread::sleep(limit);
                Waited::Elapsed
            }
            (Err(RecvTimeoutError::Disconnected), None) => loop {
                std::thread::park();
            },
        }
    }
}
