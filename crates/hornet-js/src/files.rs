//! Which files a processor may read. On one machine: any, as Node would. On a distributed worker:
//! only the files the controller shipped with the plan (written to one private folder); any other
//! path — absolute, `..` out of the folder, or a module searched for in `node_modules` above it —
//! is refused with an error naming it, so a worker runs exactly the controller's test and never
//! reads its own disk for whoever controls the controller.

use std::path::{Path, PathBuf};

use crate::resolve::normalize;

/// Where a processor's `fs` calls, `require` and `import` may read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Files {
    /// Anywhere the process may read (a run on one machine, the controller).
    #[default]
    Anywhere,
    /// Only inside this folder, which holds exactly the files the controller shipped (absolute,
    /// without `.` or `..`).
    Shipped(PathBuf),
}

impl Files {
    /// Confined to the files shipped into `folder`.
    pub(crate) fn shipped(folder: &Path) -> Files {
        Files::Shipped(absolute(folder))
    }

    /// Whether `path` may be read (or looked at) at all.
    pub(crate) fn allows(&self, path: &Path) -> bool {
        match self {
            Files::Anywhere => true,
            Files::Shipped(folder) => absolute(path).starts_with(folder),
        }
    }

    /// Whether the processor is confined to shipped files.
    pub(crate) fn is_confined(&self) -> bool {
        matches!(self, Files::Shipped(_))
    }

    /// `path` is a file this processor may read.
    pub(crate) fn is_file(&self, path: &Path) -> bool {
        self.allows(path) && path.is_file()
    }

    /// `path` is a folder this processor may look into.
    pub(crate) fn is_dir(&self, path: &Path) -> bool {
        self.allows(path) && path.is_dir()
    }

    /// Checks that `path` (given by the processor as `shown`) may be read: on a worker, an error
    /// saying it was not shipped when it lies outside the shipped files or is not among them.
    pub(crate) fn check(&self, path: &Path, shown: &str) -> Result<(), String> {
        if self.is_confined() && !(self.allows(path) && path.exists()) {
            return Err(not_shipped(shown));
        }
        Ok(())
    }

    /// The bytes of `path` (given as `shown`), or why not: [`Files::check`]'s error, else the
    /// system's, as `{error}, open '{path}'` the way Node words it.
    pub(crate) fn read(&self, path: &Path, shown: &str) -> Result<Vec<u8>, String> {
        self.check(path, shown)?;
        std::fs::read(path).map_err(|e| format!("{e}, open '{}'", path.display()))
    }

    /// The text of `path`, as [`Files::read`].
    pub(crate) fn read_text(&self, path: &Path, shown: &str) -> Result<String, String> {
        self.check(path, shown)?;
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    }
}

/// How a worker words a path its processor may not read, and what ships a file.
pub(crate) fn not_shipped(shown: &str) -> String {
    format!(
        "'{shown}' was not shipped with the processor: a distributed worker reads only the files \
         the controller sent (the modules the processor requires, the files it reads while \
         loading, and the files a string literal of its source names, relative to that source or \
         absolute); read this file at the processor's top level, or name it by such a literal"
    )
}

fn absolute(path: &Path) -> PathBuf {
    normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_reads_inside_its_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("shipped");
        std::fs::create_dir_all(folder.join("data")).unwrap();
        std::fs::write(folder.join("data/in.txt"), "in").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "secret").unwrap();
        let files = Files::shipped(&folder);
        assert_eq!(files.read(&folder.join("data/in.txt"), "./data/in.txt").unwrap(), b"in");
        for (path, shown) in [
            (dir.path().join("outside.txt"), "/abs/outside.txt"),
            (folder.join("data/../../outside.txt"), "../outside.txt"),
            (folder.join("data/missing.txt"), "./data/missing.txt"),
        ] {
            let err = files.read(&path, shown).unwrap_err();
            assert!(err.starts_with(&format!("'{shown}' was not shipped with the processor")), "{err}");
            assert!(!err.contains("secret"));
        }
        assert!(!files.is_file(&dir.path().join("outside.txt")));
        assert!(!files.is_dir(dir.path()));
        assert!(files.is_dir(&folder.join("data")));
        // On one machine, anything readable is.
        assert_eq!(Files::Anywhere.read(&dir.path().join("outside.txt"), "x").unwrap(), b"secret");
    }
}
