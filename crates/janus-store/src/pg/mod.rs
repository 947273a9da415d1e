//! The shared backend: PostgreSQL, so that several stateless Janus nodes of one region keep
//! their state in one database (whose own replication gives in-region high availability).
//! The queries and row writes are the SQLite backend's ([`crate::sql`]); what differs is how
//! transactions isolate:
//!
//! - A read is one `REPEATABLE READ READ ONLY` transaction: a consistent snapshot.
//! - A write is `READ COMMITTED`, and takes the pool's transaction-scoped advisory lock
//!   before its first statement about that pool ([`Sql::touch`]). Every later statement
//!   then sees everything earlier holders committed, and nobody else writes the pool until
//!   this transaction ends — the per-pool equivalent of SQLite's single writer, across
//!   nodes. It is what keeps read-modify-write (lockout counters, single-use codes, refresh
//!   rotation) exact with writers on several nodes, and the change log gap-free (see
//!   [`crate::sql::write`]).
//! - A transaction that appended to the change log of a pool with replicas sends
//!   `NOTIFY janus_commits`; every node listens, so a replication stream long-polling on any
//!   node wakes when any node commits. A pool known (from the settings cache) to have no
//!   replica has no stream to wake, and its writes skip the notification: it costs every
//!   commit a database-wide lock and a wake-up of every listener (a sixth of a write's cost).
//!   A stream that misses a wake-up (a replica added a moment ago) still re-reads the log
//!   within its poll interval.
//!   One that changed a pool's settings says which pool (payload `pool:<id>`), and every
//!   node forgets that pool in its settings cache ([`crate::sql::cache`]).

mod conn;
mod lease;
mod listen;
mod schema;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Condvar, Mutex};

use anyhow::Context;
use tokio_postgres::Config;

use janus_types::Result;

use crate::sql::cache::PoolCache;
use crate::sql::{Arg, Row, Sql, SqlWrite};
use crate::{Read, Store, Write};
use conn::{Lease, Pool};

pub use schema::PG_SCHEMA_VERSION;

/// Connections a node opens at most, unless the URL says otherwise (`?janus_pool_size=N`).
const DEFAULT_POOL_SIZE: usize = 16;

/// The PostgreSQL store.
pub struct PgStore {
    pool: Arc<Pool>,
    commits: Arc<(Mutex<u64>, Condvar)>,
    pools: Arc<PoolCache>,
    _listener: listen::Listener,
    leases: lease::Leases,
    target: String,
}

/// A URL's pool size parameter (ours; PostgreSQL does not know it), and the URL without it.
fn split_pool_size(url: &str) -> anyhow::Result<(String, usize)> {
    let Some((base, query)) = url.split_once('?') else { return Ok((url.to_owned(), DEFAULT_POOL_SIZE)) };
    let mut size = DEFAULT_POOL_SIZE;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("janus_pool_size=") {
            Some(n) => size = n.parse().context("janus_pool_size must be a number")?,
            None => rest.push(pair),
        }
    }
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    Ok((url, size))
}

/// Where `config` points, for logs and messages (never the password).
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://{}@{host}:{port}/{}", config.get_user().unwrap_or(""), config.get_dbname().unwrap_or(""))
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://user:password@host:port/db`) and bring
    /// its schema up to date (or refuse a newer one).
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let (url, size) = split_pool_size(url)?;
        let mut config: Config = url.parse().context("not a PostgreSQL URL")?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(5));
        }
        config.application_name("janus");
        let target = describe(&config);
        let rt = conn::Runtime::start()?;
        let mut first = conn::connect(&rt, &config).with_context(|| format!("connecting to {target}"))?;
        schema::migrate(&rt, &mut first).with_context(|| format!("migrating {target}"))?;
        drop(first);
        let commits = Arc::new((Mutex::new(0), Condvar::new()));
        let pool = Arc::new(Pool::new(rt, config, size));
        let pools = Arc::new(PoolCache::default());
        let listener = listen::Listener::start(&pool, commits.clone(), pools.clone());
        let leases = lease::Leases::new(pool.clone());
        Ok(Self { pool, commits, pools, _listener: listener, leases, target })
    }

    /// Migrate the database at `url` and return (version found, version now), for
    /// `janus migrate`.
    pub fn migrate_only(url: &str) -> anyhow::Result<(i64, i64)> {
        let (url, _) = split_pool_size(url)?;
        let config: Config = url.parse().context("not a PostgreSQL URL")?;
        let rt = conn::Runtime::start()?;
        let mut c = conn::connect(&rt, &config).with_context(|| format!("connecting to {}", describe(&config)))?;
        let found = schema::migrate(&rt, &mut c)?;
        Ok((found, PG_SCHEMA_VERSION))
    }

    /// Where the store is, without credentials.
    pub fn target(&self) -> &str {
        &self.target
    }
}

/// A transaction's connection.
struct Tx<'a> {
    lease: RefCell<Lease<'a>>,
    open: Cell<bool>,
}

impl<'a> Tx<'a> {
    /// Begin with `sql`, sent with the transaction's first statement (no round trip of
    /// its own).
    fn begin(mut lease: Lease<'a>, sql: &str) -> Result<Self> {
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

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open.get() {
            let _ = self.end("ROLLBACK");
        }
    }
}

/// Rows fetched per round trip when a result is streamed.
const STREAM_BATCH: usize = 500;

impl Sql for Tx<'_> {
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
struct ReadTx<'a>(Tx<'a>, Option<(&'a PoolCache, u64)>);

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
struct WriteTx<'a> {
    tx: Tx<'a>,
    now_ms: i64,
    locked: RefCell<HashSet<String>>,
    /// Whether the transaction appended to the log of a pool that may have replicas.
    logged: Cell<bool>,
    commits: &'a (Mutex<u64>, Condvar),
    pools: &'a PoolCache,
    pools_written: RefCell<Vec<String>>,
    heads: RefCell<HashMap<String, Head>>,
}

/// What a write transaction knows of a pool's log head.
enum Head {
    /// Asked for along with the pool's lock; the answer lands in the slot.
    Asked(conn::Slot),
    /// Read, or written by the transaction: `(seq, epoch)`.
    Known(i64, i64),
}

/// The advisory lock key of a pool: FNV-1a of its id, in a namespace of its own. Two pools
/// that collide only share a lock (they serialize), which costs time, never correctness.
fn pool_lock_key(pool: &str) -> i64 {
    fnv1a(format!("janus-pool:{pool}").as_bytes()) as i64
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Sql for WriteTx<'_> {
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
            Head::Known(seq, epoch) => Some((*seq, *epoch)),
            Head::Asked(_) => None,
        }
    }

    fn head_written(&self, pool: &str, seq: i64, epoch: i64) {
        self.heads.borrow_mut().insert(pool.to_owned(), Head::Known(seq, epoch));
    }

    fn pool_written(&self, pool: &str) {
        let mut written = self.pools_written.borrow_mut();
        if !written.iter().any(|p| p == pool) {
            written.push(pool.to_owned());
        }
    }
}

impl SqlWrite for WriteTx<'_> {
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
        let (n, cv) = self.commits;
        *n.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        cv.notify_all();
        Ok(())
    }
}

impl PgStore {
    fn read_tx(&self) -> Result<ReadTx<'_>> {
        // The generation first: the snapshot is taken later, with the first statement.
        let cache = self.pools.generation().map(|g| (&*self.pools, g));
        let lease = self.pool.get(conn::Use::Read)?;
        Ok(ReadTx(Tx::begin(lease, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?, cache))
    }

    fn write_tx(&self, now_ms: i64) -> Result<WriteTx<'_>> {
        let lease = self.pool.get(conn::Use::Write)?;
        let tx = Tx::begin(lease, "BEGIN")?;
        Ok(WriteTx {
            tx,
            now_ms,
            locked: RefCell::new(HashSet::new()),
            logged: Cell::new(false),
            commits: &self.commits,
            pools: &self.pools,
            pools_written: RefCell::new(Vec::new()),
            heads: RefCell::new(HashMap::new()),
        })
    }
}

impl Store for PgStore {
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

    fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    fn try_lease(&self, name: &str) -> Result<Option<Box<dyn crate::Lease>>> {
        self.leases.try_take(name)
    }

    fn wait_commit(&self, seen: u64, timeout: std::time::Duration) -> u64 {
        let (lock_, cv) = &*self.commits;
        let guard = lock_.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = cv.wait_timeout_while(guard, timeout, |n| *n <= seen).unwrap_or_else(|p| p.into_inner());
        *guard
    }
}
