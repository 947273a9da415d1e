//! The embedded backend: SQLite in WAL mode with `synchronous = FULL`, so a transaction that
//! returned from commit survives `kill -9` and power loss. One writer connection (SQLite
//! allows one writer at a time anyway) and a small pool of reader connections that see
//! consistent snapshots while the writer works. Parsed pool settings and keys are reused
//! while the pool's change-log head is unchanged ([`crate::sql::cache::HeadCache`]): a read
//! transaction reads the head (one small row) instead of the large JSON rows, and a change
//! made by anyone, another process on the file included, moves the head.

mod schema;

use rusqlite::{Connection, OpenFlags};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use janus_types::{Error, Result};

use crate::sql::cache::HeadCaches;
use crate::sql::{Arg, Row, Sql, SqlWrite};
use crate::{Read, Store, Write};

pub use schema::SCHEMA_VERSION;

/// The embedded SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    commits: Arc<(Mutex<u64>, Condvar)>,
    leases: crate::lease::Held,
    caches: HeadCaches,
}

fn db_err(e: rusqlite::Error) -> Error {
    Error::internal(e)
}

/// Create `dir` if needed, readable by its owner only (0700): the store, the keyring and
/// the development outbox live there. A directory that already exists keeps its mode (it
/// may be one the operator chose, such as a mount point), with a warning when others may
/// read it.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(dir = %dir.display(), mode = format!("{:o}", mode & 0o777),
                    "the data directory is open to other users; `chmod 700` it");
            }
        }
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Make the database and its WAL files readable by their owner only (0600); SQLite creates
/// them under the process umask.
fn private_files(dir: &Path) -> std::io::Result<()> {
    for name in ["janus.db", "janus.db-wal", "janus.db-shm"] {
        let path = dir.join(name);
        #[cfg(unix)]
        if path.exists() {
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Open (creating if needed) the store in directory `dir`, migrating its schema.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        private_dir(dir)?;
        let path = dir.join("janus.db");
        let mut writer = Connection::open(&path)?;
        private_files(dir)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.busy_timeout(std::time::Duration::from_secs(10))?;
        schema::migrate(&mut writer)?;
        let commits = Arc::new((Mutex::new(0), Condvar::new()));
        Ok(Self {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            commits,
            leases: Default::default(),
            caches: HeadCaches::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> Result<Connection> {
        if let Some(c) = lock(&self.readers).pop() {
            return Ok(c);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let c = Connection::open_with_flags(&self.path, flags).map_err(db_err)?;
        c.busy_timeout(std::time::Duration::from_secs(10)).map_err(db_err)?;
        Ok(c)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl rusqlite::ToSql for Arg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            Arg::Text(s) => s.to_sql(),
            Arg::Int(n) => n.to_sql(),
            Arg::OptText(s) => s.to_sql(),
        }
    }
}

impl Row for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String> {
        self.get(i).map_err(db_err)
    }

    fn int(&self, i: usize) -> Result<i64> {
        self.get(i).map_err(db_err)
    }
}

/// Gives the shared SQL code its connection and the cache hooks.
trait HasConn {
    fn conn(&self) -> &Connection;
    /// The caches and the generations recorded before this (read) transaction's snapshot.
    fn caches(&self) -> Option<(&HeadCaches, u64, u64)> {
        None
    }
    /// A statement of this (write) transaction wrote `pool`'s settings or keys row.
    fn written(&self, _pool: &str) {}
}

impl<C: HasConn> Sql for C {
    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        Ok(stmt.execute(rusqlite::params_from_iter(args)).map_err(db_err)? as u64)
    }

    fn query(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn().prepare_cached(sql).map_err(db_err)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args)).map_err(db_err)?;
        while let Some(row) = rows.next().map_err(db_err)? {
            f(row)?;
        }
        Ok(())
    }

    fn head_caches(&self) -> Option<(&HeadCaches, u64, u64)> {
        self.caches()
    }

    fn pool_written(&self, pool: &str) {
        self.written(pool);
    }

    fn keys_written(&self, pool: &str) {
        self.written(pool);
    }
}

struct ReadTx<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
    /// The caches' generations (pools, keys) before this transaction's snapshot was taken.
    generations: (u64, u64),
}

impl HasConn for ReadTx<'_> {
    fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until drop")
    }

    fn caches(&self) -> Option<(&HeadCaches, u64, u64)> {
        Some((&self.store.caches, self.generations.0, self.generations.1))
    }
}

/// Idle reader connections kept for reuse; beyond this, a finished reader is closed, so a
/// burst of concurrency does not leave its connections (and their caches) behind forever.
const IDLE_READERS: usize = 8;

impl Drop for ReadTx<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if c.execute_batch("COMMIT").is_ok() {
                let mut idle = lock(&self.store.readers);
                if idle.len() < IDLE_READERS {
                    idle.push(c);
                }
            }
        }
    }
}

struct WriteTx<'a> {
    conn: MutexGuard<'a, Connection>,
    now_ms: i64,
    done: bool,
    commits: &'a (Mutex<u64>, Condvar),
    caches: &'a HeadCaches,
    /// Pools whose settings or keys this transaction wrote: forgotten once it commits.
    written: RefCell<Vec<String>>,
}

impl HasConn for WriteTx<'_> {
    fn conn(&self) -> &Connection {
        &self.conn
    }

    fn written(&self, pool: &str) {
        let mut written = self.written.borrow_mut();
        if !written.iter().any(|p| p == pool) {
            written.push(pool.to_owned());
        }
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "rollback failed");
            }
        }
    }
}

impl SqliteStore {
    fn read_tx(&self) -> Result<ReadTx<'_>> {
        let conn = self.reader()?;
        // Recorded before BEGIN: SQLite takes the snapshot at the first read, later still.
        let generations = (self.caches.pools.generation(), self.caches.keys.generation());
        conn.execute_batch("BEGIN").map_err(db_err)?;
        Ok(ReadTx { store: self, conn: Some(conn), generations })
    }

    fn write_tx(&self, now_ms: i64) -> Result<WriteTx<'_>> {
        let conn = lock(&self.writer);
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        Ok(WriteTx {
            conn,
            now_ms,
            done: false,
            commits: &self.commits,
            caches: &self.caches,
            written: RefCell::default(),
        })
    }
}

impl Store for SqliteStore {
    fn read(&self) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.read_tx()?))
    }

    fn write(&self, now_ms: i64) -> Result<Box<dyn Write + '_>> {
        Ok(Box::new(self.write_tx(now_ms)?))
    }

    fn region_doc(&self, name: &str) -> Result<Option<(u64, String)>> {
        crate::sql::docs::get(&self.read_tx()?, name)
    }

    fn region_doc_version(&self, name: &str) -> Result<Option<u64>> {
        crate::sql::docs::version(&self.read_tx()?, name)
    }

    fn put_region_doc(&self, name: &str, version: u64, body: &str) -> Result<bool> {
        let tx = self.write_tx(0)?;
        let saved = crate::sql::docs::put(&tx, name, version, body)?;
        Box::new(tx).finish()?;
        Ok(saved)
    }

    fn wait_commit(&self, seen: u64, timeout: std::time::Duration) -> u64 {
        let (lock_, cv) = &*self.commits;
        let guard = lock(lock_);
        let (guard, _) = cv.wait_timeout_while(guard, timeout, |n| *n <= seen).unwrap_or_else(|p| p.into_inner());
        *guard
    }

    fn local_reads(&self) -> bool {
        true
    }

    fn try_lease(&self, name: &str) -> Result<Option<Box<dyn crate::Lease>>> {
        Ok(self.leases.take(name).map(|h| Box::new(h) as Box<dyn crate::Lease>))
    }

    fn shutdown(&self) -> Result<()> {
        lock(&self.readers).clear();
        let conn = lock(&self.writer);
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(db_err)
    }
}

impl SqlWrite for WriteTx<'_> {
    fn now_ms(&self) -> i64 {
        self.now_ms
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(db_err)?;
        self.done = true;
        for pool in self.written.take() {
            self.caches.forget(&pool);
        }
        let (n, cv) = self.commits;
        *lock(n) += 1;
        cv.notify_all();
        Ok(())
    }
}

#[cfg(test)]
mod local_mark_tests {
    use crate::{SqliteStore, Store};
    use janus_types::{PoolId, UserKey};

    #[test]
    fn local_marks_only_rise_and_are_not_logged() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let pool = PoolId::parse("us-east-1_abc").unwrap();
        let user = UserKey::from_stored("alice".into());
        assert_eq!(store.read().unwrap().local_mark(&pool, &user, "totp").unwrap(), 0);
        let mut tx = store.write(1).unwrap();
        assert!(tx.raise_local_mark(&pool, &user, "totp", 10).unwrap());
        assert!(!tx.raise_local_mark(&pool, &user, "totp", 10).unwrap(), "the same mark again is refused");
        assert!(!tx.raise_local_mark(&pool, &user, "totp", 9).unwrap(), "a lower mark is refused");
        assert!(tx.raise_local_mark(&pool, &user, "otp", 5).unwrap(), "kinds are separate");
        tx.commit().unwrap();
        let r = store.read().unwrap();
        assert_eq!(r.local_mark(&pool, &user, "totp").unwrap(), 10);
        assert_eq!(r.log_head(&pool).unwrap().0 .0, 0, "nothing was appended to the change log");
    }
}
