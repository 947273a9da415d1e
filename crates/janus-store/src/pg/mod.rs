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
//! - Writes of one node to one pool at the same moment share that transaction (group
//!   commit, [`group`]): they take turns in it, each in a savepoint, and one commit — one
//!   `fsync` — carries them all. [`write::PgWrite`] joins the pool's batch on its first
//!   statement about a pool.
//! - A transaction that appended to the change log of a pool with replicas sends
//!   `NOTIFY janus_commits`; every node listens, so a replication stream long-polling on any
//!   node wakes when any node commits. A pool known (from the settings cache) to have no
//!   replica has no stream to wake, and its writes skip the notification: it costs every
//!   commit a database-wide lock and a wake-up of every listener (a sixth of a write's cost).
//!   A stream that misses a wake-up (a replica added a moment ago) still re-reads the log
//!   within its poll interval.
//!   One that changed a pool's settings says which pool (payload `pool:<id>`), and every
//!   node forgets that pool in its settings cache ([`crate::sql::cache`]).

mod analyze;
mod conn;
mod group;
mod lease;
mod listen;
mod pool;
mod schema;
mod tx;
mod write;

use std::sync::{Arc, Condvar, Mutex};

use anyhow::Context;
use tokio_postgres::Config;

use janus_types::Result;

use crate::sql::cache::PoolCache;
use crate::sql::SqlWrite;
use crate::{Read, Store, Write};
use pool::{Pool, Use};
use tx::{ReadTx, Tx, WriteTx};

pub use schema::PG_SCHEMA_VERSION;

/// Connections a node opens at most, unless the URL says otherwise (`?janus_pool_size=N`).
const DEFAULT_POOL_SIZE: usize = 16;

/// The PostgreSQL store.
pub struct PgStore {
    pool: Arc<Pool>,
    commits: Arc<(Mutex<u64>, Condvar)>,
    pools: Arc<PoolCache>,
    _listener: listen::Listener,
    _analyzer: analyze::Analyzer,
    leases: lease::Leases,
    groups: Arc<group::Groups>,
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
        let analyzer = analyze::Analyzer::start(&pool);
        Ok(Self {
            pool,
            commits,
            pools,
            _listener: listener,
            _analyzer: analyzer,
            leases,
            groups: Arc::default(),
            target,
        })
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

    /// The write transactions this node committed to the database, and the requests' writes
    /// they carried (more writes than transactions: group commit, see [`group`]).
    pub fn commit_counts(&self) -> (u64, u64) {
        self.groups.counts()
    }

    /// Where the store is, without credentials.
    pub fn target(&self) -> &str {
        &self.target
    }
}

impl PgStore {
    fn read_tx(&self) -> Result<ReadTx<'_>> {
        // The generation first: the snapshot is taken later, with the first statement.
        let cache = self.pools.generation().map(|g| (&*self.pools, g));
        let lease = self.pool.get(Use::Read)?;
        Ok(ReadTx(Tx::begin(lease, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?, cache))
    }

    fn write_tx(&self, now_ms: i64) -> Result<WriteTx> {
        let lease = self.pool.get(Use::Write)?;
        WriteTx::new(lease, now_ms, self.commits.clone(), self.pools.clone())
    }
}

impl Store for PgStore {
    fn read(&self) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.read_tx()?))
    }

    fn write(&self, now_ms: i64) -> Result<Box<dyn Write + '_>> {
        Ok(Box::new(write::PgWrite::new(self, now_ms)))
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
