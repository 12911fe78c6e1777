//! Making files and directory entries durable, and creating files that never replace one.

use std::fs::{File, OpenOptions};
use std::path::Path;

/// Makes the entries of `dir` durable (best effort: not every system can).
pub(crate) fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Makes a new entry's place in its directory durable (best effort).
pub(crate) fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent() {
        sync_dir(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        });
    }
}

/// Creates `path` new, never replacing a file; readable by its owner only (0600) when
/// `private`, else 0644 (Unix). An existing file is `AlreadyExists`.
pub(crate) fn create_new(path: &Path, private: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, if private { 0o600 } else { 0o644 });
    #[cfg(not(unix))]
    let _ = private;
    options.open(path)
}

/// Opens `path` to append, creating it (0600 on Unix) when absent.
pub(crate) fn append_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
