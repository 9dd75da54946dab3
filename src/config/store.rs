//! The embedded store: one SQLite file (WAL, synchronous FULL). Each
//! top-level statement is one transaction, so a crash leaves the file as
//! it was before or after a statement.
//!
//! A statement reads from a snapshot (a deferred transaction): readers
//! never take the write lock, so a long or stalled `Get-…` pipeline holds
//! up no writer and no login. The write lock (BEGIN IMMEDIATE) is taken at
//! the statement's first write, or earlier when the statement is known to
//! write ([`Store::begin_write`] as soon as a writing cmdlet is named), and
//! held until the statement ends; two processes never lose each other's
//! updates. A statement that read first and writes later keeps that
//! guarantee by checking, once it holds the lock, that nobody committed
//! since its snapshot began; if somebody did, its reads are stale and the
//! statement writes nothing ([`StoreError::Changed`]). A remote session's
//! role check before each statement reads in that same snapshot (one
//! transaction per statement, not two) without binding its writes
//! ([`Store::begin_checks`]).
//!
//! Within one process writers first queue on a lock of the process's own:
//! SQLite's busy handler waits by sleeping, up to 100 ms at a time, so
//! under a hundred contending writers some would keep losing the race for
//! seconds; the process lock hands over at once, and only one of its
//! writers at a time meets other processes. Between processes (a server's
//! session processes) the busy handler polls in short steps instead.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use parking_lot::{ArcMutexGuard, Mutex, RawMutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use super::check_note;

/// 'LYNC' — marks a SQLite file as a lyncsh store.
const APPLICATION_ID: i32 = 0x4C59_4E43;
const FORMAT_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("The file '{0}' is not a lyncsh configuration store; it was left untouched.")]
    Foreign(PathBuf),
    #[error(
        "The file '{0}' is empty, so it is not a lyncsh configuration store; it was left untouched. Remove it, or name another file, to start a new store."
    )]
    Empty(PathBuf),
    #[error(
        "The configuration store '{}' is read-only here ({why}): it can be read, but changes are refused.",
        path.display()
    )]
    ReadOnly { path: PathBuf, why: String },
    #[error(
        "The configuration store '{path}' is damaged: {why}. It was left untouched; restore it from a backup or an export."
    )]
    Damaged { path: PathBuf, why: String },
    #[error(
        "The configuration store '{path}' was written by a newer lyncsh (format {found}); this one reads format {FORMAT_VERSION}."
    )]
    TooNew { path: PathBuf, found: i64 },
    #[error("The configuration store '{path}' cannot be opened: {why}")]
    Open { path: PathBuf, why: String },
    #[error(
        "The configuration store '{}' stayed locked by another session for {} s; the statement was not run.",
        path.display(),
        BUSY_WAIT.as_secs()
    )]
    Busy { path: PathBuf },
    #[error(
        "Another session changed the configuration while this statement was reading it, so this statement's changes were not made; run it again."
    )]
    Changed,
    #[error("The configuration store could not complete the operation: {0}")]
    Sql(#[from] rusqlite::Error),
}

/// Longest wait for another writer, in this process or another.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// A file with no bytes and no write-ahead log holding its first pages
/// (a store just made by a process that still has it open has both).
fn is_empty(path: &Path) -> bool {
    let len = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    len(path) == 0 && len(&wal_of(path)) == 0
}

fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn wal_of(path: &Path) -> PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    PathBuf::from(wal)
}

/// Why this process cannot write the store, if it cannot: the file is
/// not writable for it, or the directory, where SQLite keeps its log.
fn read_only(path: &Path) -> Option<String> {
    use rustix::fs::{Access, access};
    if access(path, Access::WRITE_OK).is_err() {
        return Some("the file is not writable".into());
    }
    if access(dir_of(path), Access::WRITE_OK).is_err() {
        return Some("its directory is not writable".into());
    }
    None
}

/// Opens a store this process may only read. In a directory it cannot
/// write, and with no log there, nobody can be writing the store (a
/// writer needs that log), so SQLite may read it as unchanging.
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let frozen = rustix::fs::access(dir_of(path), rustix::fs::Access::WRITE_OK).is_err()
        && !wal_of(path).exists();
    if !frozen {
        return Connection::open_with_flags(path, flags);
    }
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for b in abs.as_os_str().as_encoded_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                uri.push(char::from(*b))
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
}

/// Role membership's change counter: a session re-reads its roles before
/// each statement, but only when this number has moved.
const ROLES_VERSION: &str = "
    INSERT OR IGNORE INTO meta VALUES ('roles_version', '0');
    CREATE TRIGGER IF NOT EXISTS role_members_added AFTER INSERT ON role_members BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'roles_version'; END;
    CREATE TRIGGER IF NOT EXISTS role_members_removed AFTER DELETE ON role_members BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'roles_version'; END;
    CREATE TRIGGER IF NOT EXISTS role_members_changed AFTER UPDATE ON role_members BEGIN
        UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'roles_version'; END;
";

/// SQLite's busy handler: waits for another process's lock in steps of a
/// few milliseconds (SQLite's own grow to 100 ms, and a writer that keeps
/// sleeping through the hand-overs can wait for seconds), up to
/// [`BUSY_WAIT`] in all.
fn poll_busy(attempt: i32) -> bool {
    let step = u64::try_from(attempt).unwrap_or(0).saturating_add(1).min(5);
    let waited = u64::try_from(attempt).unwrap_or(0).saturating_mul(5);
    if u128::from(waited) >= BUSY_WAIT.as_millis() {
        return false;
    }
    std::thread::sleep(Duration::from_millis(step));
    true
}

/// This process's writer lock for each store file.
static WRITERS: LazyLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Store files this process has already checked for damage: a check reads
/// the whole file, and a server opens the store for every session.
static CHECKED: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(|| Mutex::new(HashSet::new()));

/// Marks a store file as checked for damage in this process: a session
/// process started by a server that has just checked it skips the read.
pub fn assume_checked(path: &Path) {
    CHECKED.lock().insert(key_of(path));
}

/// A file's one name in this process, so that two spellings of a path
/// share their lock and their check.
fn key_of(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    tx: Tx,
    writers: Arc<Mutex<()>>,
    /// Held from BEGIN IMMEDIATE to COMMIT or ROLLBACK.
    writing: Option<ArcMutexGuard<RawMutex, ()>>,
    /// Why this process may only read the store, when it may.
    read_only: Option<String>,
    /// What the file looked like after this connection last vouched for
    /// it: found sound, or committed to while as lyncsh had left it.
    known: Option<check_note::Look>,
    /// The file was as lyncsh had left it when this statement took the
    /// write lock.
    vouched: bool,
    /// Times for the change log.
    clock: LogClock,
    /// Statements ended on this connection.
    statements: u64,
    /// Rows changed by [`Store::write_unseen`]: changes that leave what
    /// was read before them as it was.
    unseen: u64,
    /// Last, so that it is dropped after the connection has closed.
    note: NoteOnClose,
}

/// The change log's local time to the millisecond, formatted once per
/// millisecond: a grant to 10,000 users logs hundreds of rows in each, and
/// formatting with the time zone was a tenth of the grant's time.
#[derive(Default)]
struct LogClock {
    last: Option<(std::time::SystemTime, Rc<str>)>,
}

impl LogClock {
    fn now(&mut self) -> Rc<str> {
        let now = std::time::SystemTime::now();
        let millis = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis())
        };
        if let Some((at, text)) = &self.last
            && millis(*at) == millis(now)
        {
            return text.clone();
        }
        let text: Rc<str> = Rc::from(
            chrono::DateTime::<chrono::Local>::from(now)
                .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
                .to_string(),
        );
        self.last = Some((now, text.clone()));
        text
    }
}

/// Renews the store's [`check_note`] once its connection has closed (the
/// close may checkpoint the WAL into the file), when the store was found
/// as lyncsh left it just before.
struct NoteOnClose {
    path: PathBuf,
    armed: bool,
}

impl Drop for NoteOnClose {
    fn drop(&mut self) {
        if self.armed {
            check_note::write(&self.path);
        }
    }
}

/// Where the current statement stands with the store.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Tx {
    None,
    /// Reading a snapshot; `version` is SQLite's data_version when it
    /// began, which moves when another connection commits. Until the
    /// statement itself reads (`used`), only the checks made before it
    /// runs have: a writer may then drop the snapshot unchecked.
    Read {
        version: i64,
        used: bool,
    },
    /// Holding the write lock.
    Write,
    /// Its snapshot went stale before its first write: the statement does
    /// nothing more with the store.
    Stale,
}

/// One row of the change log: time, account, command, target, detail.
const LOG: &str =
    "INSERT INTO changes (time, account, command, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)";

/// A point in a connection's history of changes (see [`Store::mark`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    statement: u64,
    changes: u64,
}

/// A stored configuration instance.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredObject {
    pub identity: String,
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// One row of the change log.
#[derive(Clone, Debug)]
pub struct Change {
    pub id: i64,
    pub time: String,
    pub account: String,
    pub command: String,
    pub target: String,
    pub detail: String,
}

fn damaged(path: &Path, e: impl std::fmt::Display) -> StoreError {
    StoreError::Damaged {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}

impl Store {
    /// Opens (creating when missing) a store. A file that is not a lyncsh
    /// store, or is damaged, is refused and never written to.
    pub fn open(path: &Path) -> Result<(Store, bool), StoreError> {
        let exists = path.exists();
        if exists && is_empty(path) {
            return Err(StoreError::Empty(path.to_path_buf()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_path_buf(),
                why: e.to_string(),
            })?;
        }
        let read_only = if exists { read_only(path) } else { None };
        let mut conn = match &read_only {
            None => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            Some(_) => open_read_only(path),
        }
        .map_err(|e| StoreError::Open {
            path: path.to_path_buf(),
            why: e.to_string(),
        })?;
        conn.busy_handler(Some(poll_busy))?;
        // Room for every statement the store runs, so none is parsed twice.
        conn.set_prepared_statement_cache_capacity(64);
        // The file exists now: its one name keys the lock and the check.
        let key = key_of(path);
        let mut checked = !exists;
        if exists {
            // Look before writing anything: a foreign or damaged file must
            // stay exactly as it is.
            let app: i32 = conn
                .query_row("PRAGMA application_id", [], |r| r.get(0))
                .map_err(|e| match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::NotADatabase =>
                    {
                        StoreError::Foreign(path.to_path_buf())
                    }
                    other => damaged(path, other),
                })?;
            if app != APPLICATION_ID {
                return Err(StoreError::Foreign(path.to_path_buf()));
            }
            if !CHECKED.lock().contains(&key) && !check_note::current(path) {
                checked = true;
                let check: String = conn
                    .query_row("PRAGMA quick_check", [], |r| r.get(0))
                    .map_err(|e| damaged(path, e))?;
                if check != "ok" {
                    return Err(damaged(path, check));
                }
            }
            let version: i64 = conn
                .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(|e| damaged(path, e))?
                .parse()
                .map_err(|e| damaged(path, e))?;
            if version > FORMAT_VERSION {
                return Err(StoreError::TooNew {
                    path: path.to_path_buf(),
                    found: version,
                });
            }
        }
        if read_only.is_none() {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let writers = WRITERS.lock().entry(key.clone()).or_default().clone();
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            tx: Tx::None,
            writers,
            writing: None,
            read_only,
            known: None,
            vouched: false,
            clock: LogClock::default(),
            statements: 0,
            unseen: 0,
            note: NoteOnClose {
                path: path.to_path_buf(),
                armed: false,
            },
        };
        let created = !exists;
        if created {
            store.create_tables()?;
        } else if store.read_only.is_none() {
            store.count_role_changes()?;
        }
        CHECKED.lock().insert(key);
        if store.read_only.is_none() {
            if checked {
                check_note::write(path);
            }
            store.known = check_note::look(path);
        }
        Ok((store, created))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn create_tables(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             PRAGMA application_id = {APPLICATION_ID};
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT OR IGNORE INTO meta VALUES ('format', '{FORMAT_VERSION}');
             CREATE TABLE IF NOT EXISTS objects (
                 family TEXT NOT NULL, key TEXT NOT NULL, identity TEXT NOT NULL, data TEXT NOT NULL,
                 PRIMARY KEY (family, key));
             CREATE TABLE IF NOT EXISTS users (
                 id INTEGER PRIMARY KEY,
                 sam TEXT NOT NULL UNIQUE COLLATE NOCASE,
                 upn TEXT COLLATE NOCASE,
                 display_name TEXT NOT NULL COLLATE NOCASE,
                 data TEXT NOT NULL,
                 sip TEXT UNIQUE COLLATE NOCASE,
                 lync_enabled INTEGER NOT NULL DEFAULT 0,
                 conferencing_policy TEXT COLLATE NOCASE,
                 external_access_policy TEXT COLLATE NOCASE,
                 client_policy TEXT COLLATE NOCASE);
             CREATE INDEX IF NOT EXISTS users_display ON users(display_name);
             CREATE INDEX IF NOT EXISTS users_upn ON users(upn);
             CREATE INDEX IF NOT EXISTS users_conf ON users(conferencing_policy);
             CREATE INDEX IF NOT EXISTS users_ext ON users(external_access_policy);
             CREATE INDEX IF NOT EXISTS users_client ON users(client_policy);
             CREATE TABLE IF NOT EXISTS role_members (
                 role TEXT NOT NULL COLLATE NOCASE, member TEXT NOT NULL COLLATE NOCASE,
                 PRIMARY KEY (role, member));
             {ROLES_VERSION}
             CREATE TABLE IF NOT EXISTS changes (
                 id INTEGER PRIMARY KEY, time TEXT NOT NULL, account TEXT NOT NULL,
                 command TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL);
             COMMIT;"
        ))?;
        Ok(())
    }

    /// A store made before role changes were counted gets its counter.
    fn count_role_changes(&mut self) -> Result<(), StoreError> {
        let has: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'role_members_added')",
            [],
            |r| r.get(0),
        )?;
        if !has {
            self.conn
                .execute_batch(&format!("BEGIN IMMEDIATE; {ROLES_VERSION} COMMIT;"))?;
        }
        Ok(())
    }

    /// How many times role membership has changed (`None`: a store that
    /// cannot count them, being read-only and older than the counter).
    pub fn roles_version(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'roles_version'")?
            .query_row([], |r| r.get(0))
            .optional()?)
    }

    /// Starts the statement's snapshot if it has none yet.
    pub fn begin_read(&mut self) -> Result<(), StoreError> {
        self.snapshot(true)
    }

    /// Starts the statement's snapshot for the checks made before the
    /// statement runs (the account's roles): one read transaction serves
    /// both. What they read does not bind a later write the way the
    /// statement's own reads do.
    pub fn begin_checks(&mut self) -> Result<(), StoreError> {
        self.snapshot(false)
    }

    fn snapshot(&mut self, by_statement: bool) -> Result<(), StoreError> {
        match &mut self.tx {
            Tx::None => {
                self.control("BEGIN DEFERRED")?;
                // Read before the snapshot's first page: a commit in
                // between makes the check at the first write fail safe.
                let version = self.data_version();
                match version {
                    Ok(version) => {
                        self.tx = Tx::Read {
                            version,
                            used: by_statement,
                        }
                    }
                    Err(e) => {
                        let _ = self.control("ROLLBACK");
                        return Err(e);
                    }
                }
                Ok(())
            }
            Tx::Read { used, .. } => {
                *used |= by_statement;
                Ok(())
            }
            Tx::Write => Ok(()),
            Tx::Stale => Err(StoreError::Changed),
        }
    }

    /// Runs one transaction-control statement. Every statement runs a few
    /// of these, so they are prepared once per connection, not parsed each
    /// time.
    fn control(&self, sql: &'static str) -> Result<(), StoreError> {
        self.conn.prepare_cached(sql)?.raw_execute()?;
        Ok(())
    }

    fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    /// Takes the write lock for the rest of the statement, if it does not
    /// hold it yet. After reads, only while what they saw is still current.
    pub fn begin_write(&mut self) -> Result<(), StoreError> {
        if let Some(why) = &self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
                why: why.clone(),
            });
        }
        let read = match self.tx {
            Tx::Write => return Ok(()),
            Tx::Stale => return Err(StoreError::Changed),
            Tx::Read {
                version,
                used: true,
            } => Some(version),
            // Only the checks before the statement have read: nothing
            // the statement writes depends on that snapshot.
            Tx::Read { used: false, .. } | Tx::None => None,
        };
        let turn = self
            .writers
            .try_lock_arc_for(BUSY_WAIT)
            .ok_or_else(|| StoreError::Busy {
                path: self.path.clone(),
            })?;
        if matches!(self.tx, Tx::Read { .. }) {
            self.control("ROLLBACK")?;
            self.tx = Tx::None;
        }
        self.control("BEGIN IMMEDIATE")?;
        if let Some(before) = read {
            let now = self.data_version();
            if now.as_ref().map_or(true, |v| *v != before) {
                let _ = self.control("ROLLBACK");
                self.tx = Tx::Stale;
                now?;
                return Err(StoreError::Changed);
            }
        }
        self.writing = Some(turn);
        self.tx = Tx::Write;
        // Looked at now, while no one else may write and before this
        // statement has written a page of its own.
        self.vouched = self.as_left();
        Ok(())
    }

    /// Ends the statement: its changes are committed, its snapshot let go.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.statements += 1;
        let was = std::mem::replace(&mut self.tx, Tx::None);
        match was {
            Tx::Write => {
                let done = self.control("COMMIT");
                self.writing = None;
                done?;
                // Only a file as lyncsh left it stays vouched for: a
                // change from outside must be checked by the next opener.
                self.known = self.vouch();
            }
            Tx::Read { .. } => self.control("COMMIT")?,
            Tx::None | Tx::Stale => {}
        }
        Ok(())
    }

    /// Ends the statement without its changes.
    pub fn rollback(&mut self) {
        self.statements += 1;
        let was = std::mem::replace(&mut self.tx, Tx::None);
        if matches!(was, Tx::Write | Tx::Read { .. }) {
            let _ = self.control("ROLLBACK");
        }
        self.writing = None;
        // Pages the statement spilled into the WAL are its own, undone.
        if was == Tx::Write {
            self.known = self.vouch();
        }
    }

    /// Whether the file is as lyncsh left it: as this connection last saw
    /// it, or as the note says (another lyncsh process noted it since).
    fn as_left(&self) -> bool {
        check_note::look(&self.path).is_some_and(|now| {
            self.known.as_ref() == Some(&now) || check_note::noted(&self.path) == Some(now)
        })
    }

    /// What the file looks like after this statement, if it was vouched
    /// for when the statement took the write lock.
    fn vouch(&mut self) -> Option<check_note::Look> {
        if std::mem::take(&mut self.vouched) {
            check_note::look(&self.path)
        } else {
            None
        }
    }

    /// Whether the statement holds the write lock.
    pub fn in_transaction(&self) -> bool {
        self.tx == Tx::Write
    }

    // ------------------------------------------------------------ objects

    pub fn objects(&self, family: &str) -> Result<Vec<StoredObject>, StoreError> {
        let mut st = self.conn.prepare_cached(
            "SELECT identity, data FROM objects WHERE family = ?1 ORDER BY rowid",
        )?;
        let rows = st.query_map([family], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (identity, data) = row?;
            out.push(StoredObject {
                identity,
                data: parse_map(&self.path, &data)?,
            });
        }
        Ok(out)
    }

    pub fn object(&self, family: &str, key: &str) -> Result<Option<StoredObject>, StoreError> {
        let row = self
            .conn
            .prepare_cached("SELECT identity, data FROM objects WHERE family = ?1 AND key = ?2")?
            .query_row(params![family, key], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()?;
        match row {
            Some((identity, data)) => Ok(Some(StoredObject {
                identity,
                data: parse_map(&self.path, &data)?,
            })),
            None => Ok(None),
        }
    }

    pub fn put_object(
        &mut self,
        family: &str,
        key: &str,
        obj: &StoredObject,
    ) -> Result<(), StoreError> {
        self.begin_write()?;
        let data = serde_json::to_string(&obj.data).map_err(|e| damaged(&self.path, e))?;
        self.conn
            .prepare_cached(
                "INSERT INTO objects (family, key, identity, data) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (family, key) DO UPDATE SET identity = excluded.identity, data = excluded.data",
            )?
            .execute(params![family, key, obj.identity, data])?;
        Ok(())
    }

    pub fn delete_object(&mut self, family: &str, key: &str) -> Result<bool, StoreError> {
        self.begin_write()?;
        let n = self
            .conn
            .prepare_cached("DELETE FROM objects WHERE family = ?1 AND key = ?2")?
            .execute(params![family, key])?;
        Ok(n > 0)
    }

    // ------------------------------------------------------------ users

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs a write statement inside the statement transaction.
    pub fn write(&mut self, sql: &str, p: impl rusqlite::Params) -> Result<usize, StoreError> {
        self.begin_write()?;
        Ok(self.conn.prepare_cached(sql)?.execute(p)?)
    }

    /// Where the store stands for what is read now: rows read at one mark
    /// are as stored for as long as the mark stays the same (the same
    /// statement, no change since but [`Store::write_unseen`]'s). Rows of
    /// an earlier statement never match: its snapshot is gone.
    pub fn mark(&self) -> Mark {
        Mark {
            statement: self.statements,
            changes: self.conn.total_changes() - self.unseen,
        }
    }

    /// Writes (and logs, in `f`) a change that keeps every row read at
    /// the current mark current: it touches only what the caller read and
    /// checked at that mark, so the mark stays.
    pub fn write_unseen<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let before = self.conn.total_changes();
        let r = f(self);
        self.unseen += self.conn.total_changes() - before;
        r
    }

    // ------------------------------------------------------------ change log

    pub fn log(
        &mut self,
        account: &str,
        command: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.begin_write()?;
        let time = self.clock.now();
        self.conn
            .prepare_cached(LOG)?
            .execute(params![time, account, command, target, detail])?;
        Ok(())
    }

    /// Runs `f` with the change log's statement, prepared once, and the
    /// time to log: for a batch of changes that share their statement.
    pub fn log_batch<T>(
        &mut self,
        f: impl FnOnce(&Connection, &mut rusqlite::CachedStatement<'_>, &str) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.begin_write()?;
        let time = self.clock.now();
        let mut log = self.conn.prepare_cached(LOG)?;
        f(&self.conn, &mut log, &time)
    }

    pub fn changes(&self, last: Option<i64>) -> Result<Vec<Change>, StoreError> {
        let limit = last.unwrap_or(i64::MAX);
        let mut st = self.conn.prepare_cached(
            "SELECT id, time, account, command, target, detail FROM
               (SELECT * FROM changes ORDER BY id DESC LIMIT ?1) ORDER BY id",
        )?;
        let rows = st.query_map([limit], |r| {
            Ok(Change {
                id: r.get(0)?,
                time: r.get(1)?,
                account: r.get(2)?,
                command: r.get(3)?,
                target: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r?);
        }
        Ok(out)
    }
}

fn parse_map(
    path: &Path,
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(damaged(path, "a stored object is not a JSON object")),
        Err(e) => Err(damaged(path, e)),
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // A statement still open when the session ends is committed: every
        // cmdlet in it completed.
        let _ = self.commit();
        self.note.armed = self.read_only.is_none() && self.as_left();
    }
}

/// Where the store lives: `--store`, then `$env:LYNCSH_STORE`, then the
/// user's data directory.
pub fn default_path() -> PathBuf {
    if let Some(p) = std::env::var_os("LYNCSH_STORE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("lyncsh")
        .join("store.db")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store path in a directory removed when the guard drops, also when
    /// the test fails.
    fn temp() -> (tempfile::TempDir, PathBuf) {
        let d = match tempfile::Builder::new().prefix("lyncsh-store-").tempdir() {
            Ok(d) => d,
            Err(e) => panic!("temp dir: {e}"),
        };
        let p = d.path().join("store.db");
        (d, p)
    }

    #[test]
    fn a_foreign_file_is_refused_and_left_alone() {
        let (_dir, p) = temp();
        let _ = std::fs::write(
            &p,
            b"not a database at all, just text that is long enough to look like a header....",
        );
        let before = std::fs::read(&p).unwrap_or_default();
        assert!(matches!(Store::open(&p), Err(StoreError::Foreign(_))));
        assert_eq!(std::fs::read(&p).unwrap_or_default(), before);
    }

    #[test]
    fn another_sqlite_file_is_refused() {
        let (_dir, p) = temp();
        if let Ok(c) = Connection::open(&p) {
            let _ = c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);");
        }
        assert!(matches!(Store::open(&p), Err(StoreError::Foreign(_))));
    }

    fn policy(size: i64) -> StoredObject {
        let mut data = serde_json::Map::new();
        data.insert("MaxMeetingSize".into(), serde_json::json!(size));
        StoredObject {
            identity: "Tag:Sales".into(),
            data,
        }
    }

    fn size(s: &Store) -> Option<serde_json::Value> {
        s.object("CsConferencingPolicy", "tag:sales")
            .ok()
            .flatten()
            .and_then(|o| o.data.get("MaxMeetingSize").cloned())
    }

    /// Two connections to one new store whose policy is at size 1.
    fn two_stores(p: &Path) -> (Store, Store) {
        let open = || match Store::open(p) {
            Ok((s, _)) => s,
            Err(e) => panic!("{e}"),
        };
        let (mut a, b) = (open(), open());
        commit_size(&mut a, 1);
        (a, b)
    }

    /// One whole statement on `s`: the policy set to `n`, committed.
    fn commit_size(s: &mut Store, n: i64) {
        assert!(
            s.put_object("CsConferencingPolicy", "tag:sales", &policy(n))
                .is_ok()
        );
        assert!(s.commit().is_ok());
    }

    #[test]
    fn a_statement_whose_snapshot_went_stale_writes_nothing() {
        let (_dir, p) = temp();
        let (mut a, mut b) = two_stores(&p);

        // A reads; B writes and commits without waiting for A.
        assert!(a.begin_read().is_ok());
        assert_eq!(size(&a), Some(serde_json::json!(1)));
        assert!(!a.in_transaction());
        commit_size(&mut b, 2);
        // A's snapshot still shows 1; writing on it would lose B's update.
        assert_eq!(size(&a), Some(serde_json::json!(1)));
        assert!(matches!(
            a.put_object("CsConferencingPolicy", "tag:sales", &policy(10)),
            Err(StoreError::Changed)
        ));
        // The rest of A's statement stays out of the store.
        assert!(matches!(a.begin_read(), Err(StoreError::Changed)));
        assert!(a.commit().is_ok());
        assert_eq!(size(&b), Some(serde_json::json!(2)));

        // Read then write with nobody in between: the write goes through.
        assert!(a.begin_read().is_ok());
        assert_eq!(size(&a), Some(serde_json::json!(2)));
        commit_size(&mut a, 3);
        assert_eq!(size(&b), Some(serde_json::json!(3)));
    }

    #[test]
    fn checks_before_a_statement_share_its_snapshot_but_bind_no_write() {
        let (_dir, p) = temp();
        let (mut a, mut b) = two_stores(&p);

        // A checks its roles, B commits, then A's statement reads: it
        // reads the snapshot its checks began (one transaction, not two).
        assert!(a.begin_checks().is_ok());
        assert!(matches!(a.roles_version(), Ok(Some(_))));
        commit_size(&mut b, 2);
        assert!(a.begin_read().is_ok());
        assert_eq!(size(&a), Some(serde_json::json!(1)));
        // That read was the statement's own: a write on it would be stale.
        assert!(matches!(
            a.put_object("CsConferencingPolicy", "tag:sales", &policy(10)),
            Err(StoreError::Changed)
        ));
        assert!(a.commit().is_ok());

        // Only the checks read, B commits, A writes: nothing A's write
        // depends on went stale, so it goes through on B's value.
        assert!(a.begin_checks().is_ok());
        assert!(matches!(a.roles_version(), Ok(Some(_))));
        commit_size(&mut b, 3);
        assert!(
            a.put_object("CsConferencingPolicy", "tag:sales", &policy(4))
                .is_ok()
        );
        assert_eq!(size(&a), Some(serde_json::json!(4)));
        assert!(a.commit().is_ok());
        assert_eq!(size(&b), Some(serde_json::json!(4)));
    }

    #[test]
    fn objects_round_trip_and_commit() {
        let (_dir, p) = temp();
        {
            let (mut s, created) = match Store::open(&p) {
                Ok(x) => x,
                Err(e) => panic!("{e}"),
            };
            assert!(created);
            let mut data = serde_json::Map::new();
            data.insert("MaxMeetingSize".into(), serde_json::json!(100));
            let o = StoredObject {
                identity: "Tag:Sales".into(),
                data,
            };
            assert!(
                s.put_object("CsConferencingPolicy", "tag:sales", &o)
                    .is_ok()
            );
            assert!(s.commit().is_ok());
        }
        let (s, created) = match Store::open(&p) {
            Ok(x) => x,
            Err(e) => panic!("{e}"),
        };
        assert!(!created);
        let got = s.object("CsConferencingPolicy", "tag:sales").ok().flatten();
        assert_eq!(got.map(|o| o.identity), Some("Tag:Sales".to_string()));
    }
}
