//! [`DirStore`]: ceremony messages as files in one directory.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{validate_name, MessageStore, StoreError, Stored};

/// Prefix of the temporary files a put writes before publishing. It starts with a dot, so no
/// temporary file is ever a valid message name.
const TEMP_PREFIX: &str = ".tmp-";
/// Prefix of the per-name lock files of the fallback path (file systems without hard links).
const LOCK_PREFIX: &str = ".lock-";
/// How long the fallback path waits for another writer's lock before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Distinguishes the temporary files of the threads of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Ceremony messages as files in a directory: one file per message, named after it.
///
/// This is the offline transport: the directory can be carried on a USB stick between
/// air-gapped laptops, and several processes may use it at once.
///
/// # Durable, atomic, write-once puts
///
/// A put never writes under the final name directly. It writes the bytes to a fresh temporary
/// file in the same directory (`.tmp-…`, created with `O_EXCL`), flushes it to disk (`fsync`),
/// and then publishes it with a **hard link** to the final name. `link(2)` is atomic and never
/// replaces an existing name: it fails with `EEXIST` when the name is taken, so of several racing
/// writers (threads or processes, even on other machines sharing the directory) exactly one
/// succeeds, and a reader sees either no file or the complete, already-synced file. The
/// temporary name is then removed and the directory is synced, so the new name survives a crash.
/// A loser compares its bytes with the winner's: the same bytes are [`Stored::AlreadyPresent`],
/// different bytes a [`StoreError::Conflict`].
///
/// A plain `rename` would not do: it silently replaces an existing file, so two writers could
/// both "win" and the last one would overwrite the first.
///
/// Some file systems have no hard links — notably FAT32 and exFAT, common on USB sticks. When
/// `link` reports that it is unsupported, the put falls back to a per-name lock file
/// (`.lock-<name>`, created with `O_EXCL`): holding it, the writer checks that the name is still
/// free and `rename`s the synced temporary file into place. Readers still never see a partial
/// file. If a writer dies while holding the lock, later puts of that name fail with
/// [`StoreError::Locked`], naming the lock file to delete.
///
/// Temporary and lock files start with a dot, are never valid message names and are ignored by
/// [`MessageStore::list`], as are any other files whose names are not message names. A crash
/// between creating and removing a temporary file can leave one behind; it is harmless.
#[derive(Debug, Clone)]
pub struct DirStore {
    dir: PathBuf,
    publish: Publish,
    lock_wait: Duration,
}

/// How a put publishes its temporary file under the final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Publish {
    /// Hard link, falling back to the lock when the file system has no hard links.
    LinkOrLock,
    /// Always the lock (tests of the fallback path on file systems that do have hard links).
    #[cfg(test)]
    LockOnly,
}

impl DirStore {
    /// Opens the message directory at `path`, creating it (and its parents) if missing.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let dir = path.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|source| StoreError::Io {
            action: "create the message directory",
            path: dir.clone(),
            source,
        })?;
        let metadata = fs::metadata(&dir).map_err(|source| StoreError::Io {
            action: "open the message directory",
            path: dir.clone(),
            source,
        })?;
        if !metadata.is_dir() {
            return Err(StoreError::Config(format!(
                "{} is not a directory",
                dir.display()
            )));
        }
        Ok(Self {
            dir,
            publish: Publish::LinkOrLock,
            lock_wait: LOCK_WAIT,
        })
    }

    /// The message directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
        match fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// The outcome of a put that found `name` taken by `existing`.
    fn compare(&self, name: &str, existing: &[u8], bytes: &[u8]) -> Result<Stored, StoreError> {
        if existing == bytes {
            // The winner may not have synced the directory yet; make the name durable before
            // telling this caller it is stored.
            self.sync_dir()?;
            Ok(Stored::AlreadyPresent)
        } else {
            Err(StoreError::Conflict {
                name: name.to_string(),
            })
        }
    }

    /// Writes `bytes` to a new temporary file in the directory and syncs it.
    fn write_temp(&self, name: &str, bytes: &[u8]) -> Result<RemoveOnDrop, StoreError> {
        let (path, mut file) = loop {
            let path = self.dir.join(format!(
                "{TEMP_PREFIX}{}-{}-{name}",
                std::process::id(),
                TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
            ));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => break (path, file),
                // Left by an earlier process with the same id, or another machine on a shared
                // directory: take the next number.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(source) => {
                    return Err(StoreError::Io {
                        action: "create",
                        path,
                        source,
                    })
                }
            }
        };
        let temp = RemoveOnDrop(path);
        let io_error = |action, source| StoreError::Io {
            action,
            path: temp.0.clone(),
            source,
        };
        file.write_all(bytes).map_err(|e| io_error("write", e))?;
        file.sync_all().map_err(|e| io_error("sync", e))?;
        Ok(temp)
    }

    /// Publishes `temp` under `target` through the per-name lock (no hard links needed).
    fn publish_with_lock(
        &self,
        name: &str,
        temp: &RemoveOnDrop,
        target: &Path,
        bytes: &[u8],
    ) -> Result<Stored, StoreError> {
        let _lock = self.lock(name)?;
        if let Some(existing) = self.read(target)? {
            return self.compare(name, &existing, bytes);
        }
        fs::rename(&temp.0, target).map_err(|source| StoreError::Io {
            action: "publish",
            path: target.to_path_buf(),
            source,
        })?;
        self.sync_dir()?;
        Ok(Stored::Created)
    }

    /// Takes the lock of `name`, waiting up to `lock_wait` for another writer.
    fn lock(&self, name: &str) -> Result<RemoveOnDrop, StoreError> {
        let path = self.dir.join(format!("{LOCK_PREFIX}{name}"));
        let start = Instant::now();
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return Ok(RemoveOnDrop(path)),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    if start.elapsed() >= self.lock_wait {
                        return Err(StoreError::Locked {
                            name: name.to_string(),
                            lock: path,
                        });
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(source) => {
                    return Err(StoreError::Io {
                        action: "create the lock file",
                        path,
                        source,
                    })
                }
            }
        }
    }

    /// Makes the directory's entries durable (a no-op where directories cannot be synced).
    fn sync_dir(&self) -> Result<(), StoreError> {
        #[cfg(unix)]
        {
            let result = fs::File::open(&self.dir).and_then(|dir| dir.sync_all());
            match result {
                // Some file systems (and FUSE drivers) cannot sync a directory: EINVAL.
                Err(error) if error.kind() != io::ErrorKind::InvalidInput => {
                    return Err(StoreError::Io {
                        action: "sync the message directory",
                        path: self.dir.clone(),
                        source: error,
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl MessageStore for DirStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_name(name)?;
        self.read(&self.dir.join(name))
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<Stored, StoreError> {
        validate_name(name)?;
        let target = self.dir.join(name);
        // Fast path for re-posts and conflicts: no temporary file needed.
        if let Some(existing) = self.read(&target)? {
            return self.compare(name, &existing, bytes);
        }
        let temp = self.write_temp(name, bytes)?;
        if self.publish != Publish::LinkOrLock {
            return self.publish_with_lock(name, &temp, &target, bytes);
        }
        match fs::hard_link(&temp.0, &target) {
            Ok(()) => {
                drop(temp);
                self.sync_dir()?;
                Ok(Stored::Created)
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                drop(temp);
                match self.read(&target)? {
                    Some(existing) => self.compare(name, &existing, bytes),
                    // Only possible if someone deleted the file by hand in between.
                    None => Err(StoreError::Io {
                        action: "publish",
                        path: target,
                        source: error,
                    }),
                }
            }
            Err(error) if hard_links_unsupported(&error) => {
                self.publish_with_lock(name, &temp, &target, bytes)
            }
            Err(source) => Err(StoreError::Io {
                action: "publish",
                path: target,
                source,
            }),
        }
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let io_error = |source| StoreError::Io {
            action: "list",
            path: self.dir.clone(),
            source,
        };
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if validate_name(&name).is_err() {
                continue;
            }
            if entry.file_type().map_err(io_error)?.is_file() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn describe(&self) -> String {
        format!("directory {}", self.dir.display())
    }
}

/// Whether a failed `link` means the file system has no hard links, rather than a real error.
fn hard_links_unsupported(error: &io::Error) -> bool {
    // Linux vfat and exfat answer EPERM; macOS msdos ENOTSUP (Unsupported).
    if matches!(
        error.kind(),
        io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
    ) {
        return true;
    }
    // Windows on FAT: ERROR_INVALID_FUNCTION (1) or ERROR_NOT_SUPPORTED (50).
    cfg!(windows) && matches!(error.raw_os_error(), Some(1 | 50))
}

/// A temporary or lock file, removed when dropped (after a successful link, a rename, or an error).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        // After a rename the file is gone already; any other failure leaves a dot-file that
        // `list` ignores.
        let _ = fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn lock_only(dir: &Path) -> DirStore {
        let mut store = DirStore::open(dir).unwrap();
        store.publish = Publish::LockOnly;
        store
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn put_leaves_no_temporary_files() {
        let tmp = tempfile::tempdir().unwrap();
        let store = DirStore::open(tmp.path()).unwrap();
        assert_eq!(store.put("a.json", b"1").unwrap(), Stored::Created);
        assert_eq!(store.put("a.json", b"1").unwrap(), Stored::AlreadyPresent);
        assert!(store.put("a.json", b"2").is_err());
        assert!(leftovers(tmp.path()).is_empty());
    }

    #[test]
    fn lock_fallback_is_write_once() {
        let tmp = tempfile::tempdir().unwrap();
        let store = lock_only(tmp.path());
        assert_eq!(store.put("a.json", b"1").unwrap(), Stored::Created);
        assert_eq!(store.put("a.json", b"1").unwrap(), Stored::AlreadyPresent);
        assert!(matches!(
            store.put("a.json", b"2"),
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(store.get("a.json").unwrap().unwrap(), b"1");
        assert!(leftovers(tmp.path()).is_empty());
    }

    #[test]
    fn lock_fallback_has_one_winner_under_concurrent_puts() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(lock_only(tmp.path()));
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8u8)
            .map(|i| {
                let (store, barrier) = (store.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // Skip the fast path, so every thread races for the lock.
                    let temp = store.write_temp("x.json", &[i]).unwrap();
                    let target = store.dir.join("x.json");
                    store.publish_with_lock("x.json", &temp, &target, &[i])
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let created = results.iter().filter(|r| matches!(r, Ok(Stored::Created)));
        assert_eq!(created.count(), 1);
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict { .. })));
        assert_eq!(conflicts.count(), 7);
        assert!(leftovers(tmp.path()).is_empty());
    }

    #[test]
    fn stale_lock_is_reported_with_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let mut store = lock_only(tmp.path());
        store.lock_wait = Duration::from_millis(200);
        fs::write(tmp.path().join(".lock-a.json"), b"").unwrap();
        let start = Instant::now();
        match store.put("a.json", b"1") {
            Err(StoreError::Locked { lock, .. }) => {
                assert_eq!(lock, tmp.path().join(".lock-a.json"))
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        assert!(start.elapsed() >= store.lock_wait);
        assert_eq!(store.get("a.json").unwrap(), None);
    }

    #[test]
    fn open_refuses_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        fs::write(&file, b"").unwrap();
        assert!(DirStore::open(&file).is_err());
    }
}
