//! A note beside a store file (`NAME-checked`) describing the file as it
//! was when last found undamaged, so that a process opening it need not
//! read every page again: `PRAGMA quick_check` takes about 70 ms at
//! 100,000 users, more than the command an admin typed.
//!
//! The note holds the file's identity, size and modification time, and its
//! WAL's. A store remembers what its own commits left ([`look`], no file
//! written) and renews the note when it closes, only if the file is then
//! as the note or its last commit left it: nothing but lyncsh changed it.
//! Anything else that writes the file (a copy over it, a disk editor, the
//! sqlite3 shell) leaves the note describing an older file, and the next
//! opening checks the whole file.
//! A change that keeps the size and forges the modification time goes
//! unseen, as it would for `make` or `rsync`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

fn note_path(store: &Path) -> PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push("-checked");
    PathBuf::from(p)
}

fn wal_path(store: &Path) -> PathBuf {
    let mut p = store.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

/// What a store file and its WAL looked like at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Look(String);

/// What the store and its WAL look like now; `None` when the store
/// cannot be read.
pub fn look(store: &Path) -> Option<Look> {
    describe(store).map(Look)
}

/// What the note says the store looked like when last found sound.
pub fn noted(store: &Path) -> Option<Look> {
    std::fs::read_to_string(note_path(store)).ok().map(Look)
}

fn describe(store: &Path) -> Option<String> {
    let m = std::fs::metadata(store).ok()?;
    // An empty WAL holds nothing: SQLite makes one when a connection
    // first reads and removes it on the last close.
    let wal = match std::fs::metadata(wal_path(store)) {
        Ok(w) if w.size() > 0 => format!("{} {}", w.size(), mtime_ns(&w)),
        _ => "none".into(),
    };
    Some(format!(
        "lyncsh-checked 1\nstore {} {} {} {}\nwal {wal}\n",
        m.dev(),
        m.ino(),
        m.size(),
        mtime_ns(&m)
    ))
}

fn mtime_ns(m: &std::fs::Metadata) -> i128 {
    i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec())
}

/// Whether the note describes the store as it is now.
pub fn current(store: &Path) -> bool {
    look(store).is_some_and(|now| noted(store) == Some(now))
}

/// Notes the store as it is now. Best effort: without a note the next
/// opening checks the whole file, which is slower, never wrong. Written
/// whole under a temporary name and renamed, so a reader never sees half.
pub fn write(store: &Path) {
    // A store removed under a closing connection gets no note.
    let Some(now) = describe(store) else {
        return;
    };
    let note = note_path(store);
    let mut tmp = note.clone().into_os_string();
    tmp.push(format!(".{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    if std::fs::write(&tmp, now).is_ok() && std::fs::rename(&tmp, &note).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_describes_the_file_until_something_writes_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("s.db");
        std::fs::write(&store, b"one").expect("write");
        assert!(!current(&store), "no note yet");
        write(&store);
        assert!(current(&store));
        // Another writer: same size, later time.
        std::thread::sleep(std::time::Duration::from_millis(10));
        std::fs::write(&store, b"two").expect("write");
        assert!(!current(&store));
        write(&store);
        assert!(current(&store));
        // An empty WAL is none; one with frames is a change.
        std::fs::write(wal_path(&store), b"").expect("write");
        assert!(current(&store));
        std::fs::write(wal_path(&store), b"frames").expect("write");
        assert!(!current(&store));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("s.db-checked."))
            .collect();
        assert!(names.is_empty(), "temporary notes left: {names:?}");
    }
}
