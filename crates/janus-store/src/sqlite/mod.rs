//! The embedded backend: SQLite in WAL mode with `synchronous = FULL`, so a transaction that
//! returned from commit survives `kill -9` and power loss. One writer connection (SQLite
//! allows one writer at a time anyway) and a small pool of reader connections that see
//! consistent snapshots while the writer works.

mod queries;
mod rows;
mod schema;

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use janus_types::{Change, Entity, EntityKey, Epoch, Error, PoolId, Result, Seq, CHANGE_FORMAT};

use crate::{Read, Store, Subscription, Write};

pub use schema::SCHEMA_VERSION;

/// The embedded SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    commits: Arc<(Mutex<u64>, Condvar)>,
}

pub(crate) fn db_err(e: rusqlite::Error) -> Error {
    Error::internal(e)
}

pub(crate) fn json_err(e: serde_json::Error) -> Error {
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
        Ok(Self { path, writer: Mutex::new(writer), readers: Mutex::new(Vec::new()), commits })
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

/// Gives the shared query code its connection.
pub(crate) trait HasConn {
    fn conn(&self) -> &Connection;
}

struct ReadTx<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
}

impl HasConn for ReadTx<'_> {
    fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until drop")
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
}

impl HasConn for WriteTx<'_> {
    fn conn(&self) -> &Connection {
        &self.conn
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

impl Store for SqliteStore {
    fn read(&self) -> Result<Box<dyn Read + '_>> {
        let conn = self.reader()?;
        conn.execute_batch("BEGIN").map_err(db_err)?;
        Ok(Box::new(ReadTx { store: self, conn: Some(conn) }))
    }

    fn write(&self, now_ms: i64) -> Result<Box<dyn Write + '_>> {
        let conn = lock(&self.writer);
        conn.execute_batch("BEGIN IMMEDIATE").map_err(db_err)?;
        Ok(Box::new(WriteTx { conn, now_ms, done: false, commits: &self.commits }))
    }

    fn wait_commit(&self, seen: u64, timeout: std::time::Duration) -> u64 {
        let (lock_, cv) = &*self.commits;
        let guard = lock(lock_);
        let (guard, _) = cv.wait_timeout_while(guard, timeout, |n| *n <= seen).unwrap_or_else(|p| p.into_inner());
        *guard
    }

    fn shutdown(&self) -> Result<()> {
        lock(&self.readers).clear();
        let conn = lock(&self.writer);
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(db_err)
    }
}

impl WriteTx<'_> {
    fn log(&mut self, pool: &PoolId, key: EntityKey, state: Option<Entity>) -> Result<Seq> {
        let (head, epoch) = self.log_head(pool)?;
        let change = Change {
            v: CHANGE_FORMAT,
            pool: pool.clone(),
            seq: Seq(head.0 + 1),
            epoch: if epoch.0 == 0 { janus_types::Epoch(1) } else { epoch },
            at_ms: self.now_ms,
            key,
            state,
        };
        rows::apply(&self.conn, &change)?;
        rows::append(&self.conn, &change)?;
        Ok(change.seq)
    }
}

impl Write for WriteTx<'_> {
    fn put(&mut self, pool: &PoolId, entity: Entity) -> Result<Seq> {
        self.log(pool, entity.key(), Some(entity))
    }

    fn delete(&mut self, pool: &PoolId, key: EntityKey) -> Result<Seq> {
        self.log(pool, key, None)
    }

    fn apply(&mut self, change: &Change) -> Result<bool> {
        let (head, _) = self.log_head(&change.pool)?;
        if change.seq <= head {
            return Ok(false);
        }
        if change.seq.0 != head.0 + 1 {
            return Err(Error::internal(anyhow::anyhow!(
                "change log gap for {}: head {} but got {}",
                change.pool,
                head,
                change.seq
            )));
        }
        rows::apply(&self.conn, change)?;
        rows::append(&self.conn, change)?;
        Ok(true)
    }

    fn load_snapshot(
        &mut self,
        pool: &PoolId,
        seq: Seq,
        epoch: Epoch,
        entities: &mut dyn Iterator<Item = Result<Entity>>,
    ) -> Result<u64> {
        rows::delete_pool_rows(&self.conn, pool.as_str())?;
        let mut n = 0;
        for e in entities {
            rows::put_entity(&self.conn, pool.as_str(), &e?)?;
            n += 1;
        }
        self.reset_log(pool, seq, epoch)?;
        Ok(n)
    }

    fn restore(&mut self, pool: &PoolId, entity: &Entity) -> Result<()> {
        rows::put_entity(&self.conn, pool.as_str(), entity)
    }

    fn reset_log(&mut self, pool: &PoolId, seq: Seq, epoch: Epoch) -> Result<()> {
        let p = pool.as_str();
        self.conn.execute("DELETE FROM changes WHERE pool = ?1", [p]).map_err(db_err)?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO log_head (pool, seq, epoch) VALUES (?1, ?2, ?3)",
                rusqlite::params![p, seq.0 as i64, epoch.0 as i64],
            )
            .map_err(db_err)?;
        Ok(())
    }

    fn trim_log(&mut self, pool: &PoolId, below: Seq) -> Result<u64> {
        let n = self
            .conn
            .execute(
                "DELETE FROM changes WHERE pool = ?1 AND seq < ?2",
                rusqlite::params![pool.as_str(), below.0 as i64],
            )
            .map_err(db_err)?;
        Ok(n as u64)
    }

    fn advance_epoch(&mut self, pool: &PoolId) -> Result<Epoch> {
        let (seq, epoch) = self.log_head(pool)?;
        let next = Epoch(epoch.0.max(1) + 1);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO log_head (pool, seq, epoch) VALUES (?1, ?2, ?3)",
                rusqlite::params![pool.as_str(), seq.0 as i64, next.0 as i64],
            )
            .map_err(db_err)?;
        Ok(next)
    }

    fn set_subscription(&mut self, pool: &PoolId, sub: Option<&Subscription>) -> Result<()> {
        match sub {
            Some(s) => self.conn.execute(
                "INSERT OR REPLACE INTO subscriptions (pool, source, url) VALUES (?1, ?2, ?3)",
                rusqlite::params![pool.as_str(), s.source, s.url],
            ),
            None => self.conn.execute("DELETE FROM subscriptions WHERE pool = ?1", [pool.as_str()]),
        }
        .map_err(db_err)?;
        Ok(())
    }

    fn raise_local_mark(&mut self, pool: &PoolId, user: &janus_types::UserKey, kind: &str, mark: i64) -> Result<bool> {
        let changed = self
            .conn
            .execute(
                "INSERT INTO local_marks (pool, ukey, kind, mark) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (pool, ukey, kind) DO UPDATE SET mark = excluded.mark WHERE excluded.mark > mark",
                rusqlite::params![pool.as_str(), user.as_str(), kind, mark],
            )
            .map_err(db_err)?;
        Ok(changed > 0)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(db_err)?;
        self.done = true;
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
