//! The transactions of the PostgreSQL store: [`Tx`], a connection inside a transaction;
//! [`ReadTx`], a consistent snapshot; [`WriteTx`], a physical write transaction, with the
//! pools' advisory locks it took and the log heads it knows. A [`WriteTx`] may carry the
//! writes of several requests to one pool ([`super::group`]): its lock and head bookkeeping
//! can be saved and restored around each request's savepoint.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex};

use janus_types::Result;

use super::conn;
use super::listen;
use super::pool::Lease;
use crate::sql::cache::PoolCache;
use crate::sql::{Arg, Row, Sql, SqlWrite};

/// A transaction's connection.
pub(super) struct Tx {
    lease: RefCell<Lease>,
    open: Cell<bool>,
}

impl Tx {
    /// Begin with `sql`, sent with the transaction's first statement (no round trip of
    /// its own).
    pub(super) fn begin(mut lease: Lease, sql: &str) -> Result<Self> {
        lease.parts().1.defer_simple(sql);
        Ok(Self { lease: RefCell::new(lease), open: Cell::new(true) })
    }

    fn defer(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        let mut lease = self.lease.borrow_mut();
        let (rt, c) = lease.parts();
        c.defer_exec(rt, sql, args)
    }

    fn defer_query(&self, sql: &str, args: &[Arg<'_>]) -> Result<conn::Slot> {
        let mut lease = self.lease.borrow_mut();
        let (rt, c) = lease.parts();
        c.defer_query(rt, sql, args)
    }

    fn batch(&self, sql: &str) -> Result<()> {
        let mut lease = self.lease.borrow_mut();
        let (rt, c) = lease.parts();
        c.batch(rt, sql)
    }

    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        let mut lease = self.lease.borrow_mut();
        let (rt, c) = lease.parts();
        c.exec(rt, sql, args)
    }

    fn query(&self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<tokio_postgres::Row>> {
        let mut lease = self.lease.borrow_mut();
        let (rt, c) = lease.parts();
        c.query(rt, sql, args)
    }

    /// End the transaction with `sql` (`COMMIT` or `ROLLBACK`); a connection whose ending
    /// failed is not reused.
    fn end(&self, sql: &str) -> Result<()> {
        self.open.set(false);
        let r = {
            let mut lease = self.lease.borrow_mut();
            let (rt, c) = lease.parts();
            c.end(rt, sql)
        };
        if r.is_err() {
            self.lease.borrow_mut().discard();
        }
        r
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.open.get() {
            let _ = self.end("ROLLBACK");
        }
    }
}

/// Rows fetched per round trip when a result is streamed.
const STREAM_BATCH: usize = 500;

impl Sql for Tx {
    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        Tx::exec(self, sql, args)
    }

    fn defer(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        Tx::defer(self, sql, args)
    }

    fn query(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        for row in Tx::query(self, sql, args)? {
            f(&row)?;
        }
        Ok(())
    }

    /// Through a cursor, `STREAM_BATCH` rows at a time, so a pool of any size streams in
    /// constant memory (and `f` may use this transaction between batches).
    fn stream(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        // One cursor name per query: a prepared FETCH remembers its cursor's columns.
        let cursor = format!("janus_c{:x}", fnv1a(sql.as_bytes()));
        Tx::exec(self, &format!("DECLARE {cursor} NO SCROLL CURSOR FOR {sql}"), args)?;
        loop {
            let rows = Tx::query(self, &format!("FETCH {STREAM_BATCH} FROM {cursor}"), &[])?;
            for row in &rows {
                f(row)?;
            }
            if rows.len() < STREAM_BATCH {
                break;
            }
        }
        self.batch(&format!("CLOSE {cursor}"))
    }
}

/// A read: one consistent snapshot, and the pool cache's generation recorded before it.
pub(super) struct ReadTx<'a>(pub(super) Tx, pub(super) Option<(&'a PoolCache, u64)>);

impl Sql for ReadTx<'_> {
    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        Sql::exec(&self.0, sql, args)
    }

    fn query(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        Sql::query(&self.0, sql, args, f)
    }

    fn stream(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        Sql::stream(&self.0, sql, args, f)
    }

    fn pool_cache(&self) -> Option<(&PoolCache, u64)> {
        self.1
    }
}

/// A read ends without waiting for a round trip: its `COMMIT` (of nothing: it wrote nothing)
/// is sent at once and its answer is not awaited (see [`conn::PgConn::send_and_forget`]), so
/// the snapshot is released right away and the connection is free for its next statement.
impl Drop for ReadTx<'_> {
    fn drop(&mut self) {
        if self.0.open.get() {
            self.0.open.set(false);
            let mut lease = self.0.lease.borrow_mut();
            let c = lease.parts().1;
            if c.nothing_sent() {
                c.clear_deferred();
            } else {
                c.send_and_forget("COMMIT");
            }
        }
    }
}

/// A write: per-pool locks taken on first touch, a notification at commit if it logged.
pub(super) struct WriteTx {
    tx: Tx,
    now_ms: i64,
    locked: RefCell<HashSet<String>>,
    /// Whether the transaction appended to the log of a pool that may have replicas.
    logged: Cell<bool>,
    commits: Arc<(Mutex<u64>, Condvar)>,
    pools: Arc<PoolCache>,
    pools_written: RefCell<Vec<String>>,
    heads: RefCell<HashMap<String, Head>>,
}

/// What a [`WriteTx`] knows of its locks and log heads at a savepoint.
pub(super) struct Marks {
    locked: HashSet<String>,
    heads: HashMap<String, Head>,
}

impl WriteTx {
    pub(super) fn new(
        lease: Lease,
        now_ms: i64,
        commits: Arc<(Mutex<u64>, Condvar)>,
        pools: Arc<PoolCache>,
    ) -> Result<Self> {
        Ok(Self {
            tx: Tx::begin(lease, "BEGIN")?,
            now_ms,
            locked: RefCell::new(HashSet::new()),
            logged: Cell::new(false),
            commits,
            pools,
            pools_written: RefCell::new(Vec::new()),
            heads: RefCell::new(HashMap::new()),
        })
    }

    /// Open a savepoint (sent with the next statement) and note what is known at it.
    pub(super) fn savepoint(&self) -> Marks {
        self.tx.lease.borrow_mut().parts().1.defer_simple("SAVEPOINT janus_w");
        Marks { locked: self.locked.borrow().clone(), heads: self.heads.borrow().clone() }
    }

    /// Undo everything since the savepoint (sent with the next statement): locks first taken
    /// after it are released with it, and heads written after it are forgotten.
    pub(super) fn rollback_to(&self, marks: Marks) {
        self.tx.lease.borrow_mut().parts().1.defer_simple("ROLLBACK TO SAVEPOINT janus_w; RELEASE SAVEPOINT janus_w");
        *self.locked.borrow_mut() = marks.locked;
        *self.heads.borrow_mut() = marks.heads;
    }

    /// Send everything since the savepoint and end it, waiting for the answer: what the
    /// statements met (a constraint, a lost connection) is known here.
    pub(super) fn release(&self) -> Result<()> {
        self.tx.batch("RELEASE SAVEPOINT janus_w")
    }

    /// End the savepoint with the next statement (the transaction's `COMMIT`).
    pub(super) fn release_later(&self) {
        self.tx.lease.borrow_mut().parts().1.defer_simple("RELEASE SAVEPOINT janus_w");
    }
}

/// What a write transaction knows of a pool's log head.
#[derive(Clone)]
enum Head {
    /// Asked for along with the pool's lock; the answer lands in the slot.
    Asked(conn::Slot),
    /// Read: `(seq, epoch)`.
    Known(i64, i64),
    /// Moved by the transaction and not yet written to its row: written once, before the
    /// commit ([`Sql::keep_head`]).
    Kept(i64, i64),
}

/// The advisory lock key of a pool: FNV-1a of its id, in a namespace of its own. Two pools
/// that collide only share a lock (they serialize), which costs time, never correctness.
fn pool_lock_key(pool: &str) -> i64 {
    fnv1a(format!("janus-pool:{pool}").as_bytes()) as i64
}

pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Sql for WriteTx {
    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        Sql::exec(&self.tx, sql, args)
    }

    fn defer(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        Sql::defer(&self.tx, sql, args)
    }

    fn query(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        Sql::query(&self.tx, sql, args, f)
    }

    fn stream(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        Sql::stream(&self.tx, sql, args, f)
    }

    fn touch(&self, pool: &str) -> Result<()> {
        if self.locked.borrow().contains(pool) {
            return Ok(());
        }
        self.locked.borrow_mut().insert(pool.to_owned());
        // Deferred: PostgreSQL runs the pipeline in order, so every later statement of the
        // transaction runs after the lock is granted.
        let key = pool_lock_key(pool);
        Tx::defer(&self.tx, "SELECT pg_advisory_xact_lock(?1)", &[key.into()])?;
        // The log head with the lock, in the same pipeline: a write that appends then needs
        // no round trip of its own for it while it holds the lock.
        let head = Tx::defer_query(&self.tx, crate::sql::LOG_HEAD, &[pool.into()])?;
        self.heads.borrow_mut().insert(pool.to_owned(), Head::Asked(head));
        Ok(())
    }

    fn known_head(&self, pool: &str) -> Option<(i64, i64)> {
        let mut heads = self.heads.borrow_mut();
        let head = heads.get_mut(pool)?;
        if let Head::Asked(slot) = head {
            let rows = slot.lock().unwrap_or_else(|p| p.into_inner()).take()?;
            let known = match rows.first() {
                Some(r) => (r.try_get(0).ok()?, r.try_get(1).ok()?),
                None => (0, 0),
            };
            *head = Head::Known(known.0, known.1);
        }
        match head {
            Head::Known(seq, epoch) | Head::Kept(seq, epoch) => Some((*seq, *epoch)),
            Head::Asked(_) => None,
        }
    }

    fn keep_head(&self, pool: &str, seq: i64, epoch: i64) -> bool {
        self.heads.borrow_mut().insert(pool.to_owned(), Head::Kept(seq, epoch));
        true
    }

    fn pool_written(&self, pool: &str) {
        let mut written = self.pools_written.borrow_mut();
        if !written.iter().any(|p| p == pool) {
            written.push(pool.to_owned());
        }
    }
}

impl SqlWrite for WriteTx {
    fn now_ms(&self) -> i64 {
        self.now_ms
    }

    fn logged(&self, pool: &str) {
        let unreplicated = self.pools.peek(pool, |p| p.replication.replicas.is_empty()).unwrap_or(false);
        if !unreplicated {
            self.logged.set(true);
        }
    }

    fn finish(self: Box<Self>) -> Result<()> {
        for (pool, head) in self.heads.borrow().iter() {
            if let Head::Kept(seq, epoch) = head {
                crate::sql::rows::write_head(&self.tx, pool, *seq, *epoch)?;
            }
        }
        if self.logged.get() {
            self.tx.lease.borrow_mut().parts().1.defer_simple(&format!("NOTIFY {}", listen::CHANNEL));
        }
        let written = self.pools_written.take();
        for pool in &written {
            let payload = format!("{}{pool}", listen::POOL_PAYLOAD);
            Tx::defer(&self.tx, "SELECT pg_notify(?1, ?2)", &[listen::CHANNEL.into(), payload.as_str().into()])?;
        }
        self.tx.end("COMMIT")?;
        for pool in &written {
            self.pools.forget(pool);
        }
        let (n, cv) = &*self.commits;
        *n.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        cv.notify_all();
        Ok(())
    }
}
