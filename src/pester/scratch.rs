//! What a run may change without consequence: a scratch copy of the
//! configuration store (or a fresh default one), and `$TestDrive`, a
//! temporary folder per top-level `Describe`. Both are removed when the
//! run or the block ends, also when it failed.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::runtime::Interp;
use crate::runtime::error::{ErrorCategory, ErrorRecord};

/// A temporary folder removed when dropped. (Written here rather than
/// taken from `tempfile` to keep the shared lock file out of this change.)
pub struct TempFolder {
    pub path: PathBuf,
}

impl TempFolder {
    pub fn new(prefix: &str) -> Result<TempFolder, ErrorRecord> {
        let base = std::env::temp_dir();
        let mut last = String::new();
        for _ in 0..8 {
            let path = base.join(format!(
                "{prefix}-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempFolder { path }),
                Err(e) => last = e.to_string(),
            }
        }
        Err(ErrorRecord::new(
            format!(
                "Cannot create a temporary folder in '{}': {last}",
                base.display()
            ),
            "PesterTempFolder",
            ErrorCategory::WriteError,
        ))
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The session's own store, set aside while a run works on its scratch
/// store; put back when dropped through [`ScratchStore::restore`].
pub struct ScratchStore {
    saved: Option<(Option<PathBuf>, Option<Rc<crate::config::Engine>>)>,
    folder: TempFolder,
}

impl ScratchStore {
    /// Copies the session's store (unless `fresh`) and points the session
    /// at the copy.
    pub fn enter(it: &mut Interp, fresh: bool) -> Result<ScratchStore, ErrorRecord> {
        let folder = TempFolder::new("lyncsh-pester-store")?;
        let copy = folder.path.join("store.db");
        let real = it
            .store_path
            .clone()
            .unwrap_or_else(crate::config::store::default_path);
        if !fresh && real.exists() {
            copy_store(&real, &copy)?;
        }
        let saved = it.swap_store(Some(copy), None);
        Ok(ScratchStore {
            saved: Some(saved),
            folder,
        })
    }

    pub fn restore(mut self, it: &mut Interp) {
        if let Some((path, engine)) = self.saved.take() {
            // The scratch engine is dropped here, before its folder goes.
            drop(it.swap_store(path, engine));
        }
        let _ = &self.folder;
    }
}

/// A consistent copy of a store, committed changes in its journal included.
fn copy_store(from: &Path, to: &Path) -> Result<(), ErrorRecord> {
    let fail = |e: rusqlite::Error| {
        ErrorRecord::new(
            format!(
                "Cannot copy the configuration store '{}': {e}",
                from.display()
            ),
            "PesterStoreCopy",
            ErrorCategory::ReadError,
        )
    };
    let conn =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(fail)?;
    conn.execute("VACUUM INTO ?1", [to.display().to_string()])
        .map_err(fail)?;
    Ok(())
}
