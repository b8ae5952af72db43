//! Where report files go, and writing them there without destroying anything.
//!
//! * `-` is standard output. So are `/dev/stdout`, `/dev/fd/1` and `/proc/self/fd/1`, and
//!   `/dev/stderr`, `/dev/fd/2` and `/proc/self/fd/2` are standard error, as in gawk: they are
//!   written through the descriptor the process already holds, not opened again (which a pipe of
//!   another user or a socket would refuse).
//! * A path that does not exist yet, or names a regular file, is written atomically: the bytes go
//!   to a temporary file next to it (`.<name>.<pid>.tmp`), flushed to disk, then renamed over the
//!   path, so a reader never sees a half-written file and an existing file is only replaced by a
//!   complete one.
//! * Anything else — a character device (`/dev/null`, `/dev/stdout`, a terminal), a FIFO, a
//!   symbolic link (to any of these or to a regular file) — is opened and written in place, never
//!   renamed over: the device node, the FIFO and the link stay what they were.
//!
//! [`check`] finds, before a run sends anything, what would keep a file from being written at its
//! end: a missing directory, a directory where the file should be, a directory that takes no new
//! files, a full file system (by a probe write of [`PROBE_BYTES`]). A write that fails anyway says
//! how many bytes could not be written.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The path that means standard output.
pub const STDOUT: &str = "-";

/// How much [`check`] writes (then removes) next to a file that does not exist yet: a file system
/// with less room than that is full for a report.
pub const PROBE_BYTES: usize = 64 * 1024;

/// The names of standard output besides `-`.
const STDOUT_NAMES: [&str; 3] = ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"];
/// The names of standard error.
const STDERR_NAMES: [&str; 3] = ["/dev/stderr", "/dev/fd/2", "/proc/self/fd/2"];

/// A stream the process already holds open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Stdout,
    Stderr,
}

fn stream(path: &Path) -> Option<Stream> {
    let name = path.as_os_str();
    if name == STDOUT || STDOUT_NAMES.iter().any(|n| name == *n) {
        Some(Stream::Stdout)
    } else if STDERR_NAMES.iter().any(|n| name == *n) {
        Some(Stream::Stderr)
    } else {
        None
    }
}

/// True when `path` is standard output: `-`, `/dev/stdout`, `/dev/fd/1` or `/proc/self/fd/1`.
pub fn is_stdout(path: &Path) -> bool {
    stream(path) == Some(Stream::Stdout)
}

/// Checks that a file can be written at `path` at the end of a run, without writing it: returns
/// why not, as a phrase that follows the path (`the directory `out` does not exist`). Nothing is
/// left behind; an existing file is not touched.
pub fn check(path: &Path) -> Result<(), String> {
    if stream(path).is_some() {
        return Ok(());
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => check_writable_file(path).and_then(|()| check_directory(path)),
        Ok(meta) if meta.is_dir() => Err("is a directory".into()),
        Ok(_) => check_in_place(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => check_directory(path),
        Err(e) => Err(format!("cannot be used: {e}")),
    }
}

/// An existing regular file that the user may not write is refused, though its directory would
/// let a rename replace it.
fn check_writable_file(path: &Path) -> Result<(), String> {
    OpenOptions::new().write(true).open(path).map(drop).map_err(|e| format!("cannot be written: {e}"))
}

/// A device, FIFO or symbolic link: written in place at the end, so it must be writable now. A
/// device is opened (and closed); a FIFO is not, since opening and closing it would hand a waiting
/// reader an empty file: its permissions are checked instead.
fn check_in_place(path: &Path) -> Result<(), String> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "is a symbolic link to a file that does not exist".to_string(),
        _ => format!("cannot be used: {e}"),
    })?;
    if meta.is_dir() {
        return Err("is a symbolic link to a directory".into());
    }
    if is_fifo(&meta) {
        return may_write(path).map_err(|e| format!("cannot be written: {e}"));
    }
    open_in_place(path).map(drop).map_err(|e| format!("cannot be opened for writing: {e}"))
}

#[cfg(unix)]
fn is_fifo(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
fn is_fifo(_: &fs::Metadata) -> bool {
    false
}

/// Whether this process may write `path`, by its permissions (access(2)), without opening it.
#[cfg(unix)]
fn may_write(path: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the path holds a NUL byte"))?;
    // SAFETY: access reads a NUL-terminated path that lives for the call.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn may_write(_: &Path) -> io::Result<()> {
    Ok(())
}

/// Opens `path` for writing where it is, without creating or truncating it.
fn open_in_place(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).open(path)
}

/// The directory of `path` exists, is a directory, takes a new file and has room for
/// [`PROBE_BYTES`].
fn check_directory(path: &Path) -> Result<(), String> {
    let name = path.file_name().ok_or_else(|| "has no file name".to_string())?;
    let dir = directory_of(path);
    match fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(format!("cannot be created: `{}` is not a directory", dir.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!("cannot be created: the directory `{}` does not exist", dir.display()));
        }
        Err(e) => return Err(format!("cannot be created: `{}`: {e}", dir.display())),
    }
    let probe = sibling(path, name, "probe");
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| format!("cannot be created: no new file can be made in `{}`: {e}", dir.display()))?;
    let written = write_counting(&mut file, &[0; PROBE_BYTES]);
    drop(file);
    let _ = fs::remove_file(&probe);
    written.map_err(|e| {
        format!("cannot be written: a probe of {} KiB in `{}` failed: {e}", PROBE_BYTES / 1024, dir.display())
    })
}

/// The directory a relative file name without one lives in: the current one.
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `.<name>.<pid>.<what>` next to `path`.
fn sibling(path: &Path, name: &std::ffi::OsStr, what: &str) -> PathBuf {
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{what}", std::process::id()));
    path.with_file_name(tmp_name)
}

/// Writes `bytes` to `path`: to standard output for `-` (standard error for `/dev/stderr`),
/// atomically for a new path or a regular
/// file, in place for anything else (see the [module documentation](self)). On error the
/// message says how many bytes could not be written; a temporary file is removed and an existing
/// regular file is left as it was.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match stream(path) {
        Some(Stream::Stdout) => {
            let mut out = io::stdout().lock();
            return write_counting(&mut out, bytes).and_then(|()| out.flush());
        }
        Some(Stream::Stderr) => return write_counting(&mut io::stderr().lock(), bytes),
        None => {}
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => write_atomic(path, bytes),
        Ok(meta) if meta.is_dir() => Err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory")),
        Ok(_) => {
            let mut file = open_in_place(path)?;
            // Truncates a regular file behind a symbolic link; a device or FIFO has no length.
            if file.metadata().is_ok_and(|m| m.is_file()) {
                file.set_len(0)?;
                write_counting(&mut file, bytes)?;
                return file.sync_all();
            }
            write_counting(&mut file, bytes)?;
            file.flush()
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => write_atomic(path, bytes),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` through a temporary file next to it (`.<name>.<pid>.tmp`), flushed to
/// disk, then renamed over `path`: a reader never sees a half-written file. On error the temporary
/// file is removed and an existing file at `path` is left as it was. Callers go through
/// [`write_file`], which does this only where a rename cannot replace a device, FIFO or link.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let tmp = sibling(path, name, "tmp");
    let result = File::create(&tmp)
        .and_then(|mut f| {
            write_counting(&mut f, bytes)?;
            f.sync_all().map_err(|e| annotate(e, &format!("while flushing {} bytes to disk", bytes.len())))
        })
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `write_all`, whose error says how many of the bytes could not be written.
fn write_counting(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let mut written = 0;
    while written < bytes.len() {
        match out.write(&bytes[written..]) {
            Ok(0) => return Err(short_write(io::ErrorKind::WriteZero.into(), written, bytes.len())),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(short_write(e, written, bytes.len())),
        }
    }
    Ok(())
}

fn short_write(e: io::Error, written: usize, total: usize) -> io::Error {
    annotate(e, &format!("{} of {total} bytes could not be written", total - written))
}

/// `e` with `context` after its message, keeping its kind and OS error code readable in the text.
fn annotate(e: io::Error, context: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{e}; {context}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<OsString> {
        let mut v: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        v.sort();
        v
    }

    #[test]
    fn a_new_or_regular_file_is_replaced_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        check(&path).unwrap();
        assert!(names(dir.path()).is_empty(), "the probe is removed");
        write_file(&path, b"first").unwrap();
        write_file(&path, b"second").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "second");
        assert_eq!(names(dir.path()), vec![OsString::from("r.json")]);
    }

    #[test]
    fn missing_directories_and_directories_are_refused_by_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nodir").join("sub").join("r.json");
        let why = check(&missing).unwrap_err();
        assert!(why.contains("does not exist") && why.contains("sub"), "{why}");
        assert_eq!(check(dir.path()).unwrap_err(), "is a directory");
        assert!(check(Path::new("/proc/x/r.json")).unwrap_err().contains("does not exist"));
        assert!(write_file(&missing, b"x").is_err());
        assert!(names(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_to_a_regular_file_stays_a_link_and_its_target_gets_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.json");
        fs::write(&target, "a much longer old content").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        check(&link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    }

    #[cfg(unix)]
    #[test]
    fn dev_null_is_written_in_place_and_dev_full_says_what_was_lost() {
        use std::os::unix::fs::FileTypeExt;
        check(Path::new("/dev/null")).unwrap();
        write_file(Path::new("/dev/null"), b"gone").unwrap();
        assert!(fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
        if Path::new("/dev/full").exists() {
            let e = write_file(Path::new("/dev/full"), &[1; 100]).unwrap_err();
            assert!(e.to_string().contains("100 of 100 bytes could not be written"), "{e}");
            assert!(fs::symlink_metadata("/dev/full").unwrap().file_type().is_char_device());
        }
    }
}
