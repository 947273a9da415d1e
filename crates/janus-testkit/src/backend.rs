//! Store backends for tests: a fresh SQLite directory or a fresh PostgreSQL database.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use janus_store::{PgStore, SqliteStore, Store};

/// A store backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded store.
    Sqlite,
    /// A PostgreSQL database (a fresh one per [`TestStore`]).
    Postgres,
}

/// The backends to run a test on: SQLite always, PostgreSQL when a test server is given.
pub fn backends() -> Vec<Backend> {
    if pg_admin_url().is_some() {
        vec![Backend::Sqlite, Backend::Postgres]
    } else {
        assert!(
            std::env::var("JANUS_TEST_REQUIRE_PG").as_deref() != Ok("1"),
            "JANUS_TEST_REQUIRE_PG=1 but JANUS_TEST_PG is not set"
        );
        eprintln!("note: JANUS_TEST_PG is not set; PostgreSQL cases skipped (scripts/test runs them)");
        vec![Backend::Sqlite]
    }
}

fn pg_admin_url() -> Option<String> {
    std::env::var("JANUS_TEST_PG").ok().filter(|u| !u.is_empty())
}

/// A store of one backend that lives as long as the test: its directory (always made, the
/// keyring and outbox live there) and, for PostgreSQL, its database.
pub struct TestStore {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Which backend.
    pub backend: Backend,
    url: Option<String>,
    dir: tempfile::TempDir,
}

impl TestStore {
    /// A fresh, empty store.
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = (backend == Backend::Postgres).then(fresh_database);
        let store = open(backend, dir.path(), url.as_deref());
        Self { store, backend, url, dir }
    }

    /// The same data, opened again (a restarted node; for PostgreSQL, another node).
    pub fn reopen(&self) -> Arc<dyn Store> {
        open(self.backend, self.dir.path(), self.url.as_deref())
    }

    /// The node's data directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Run `sql` directly against this store's PostgreSQL database (a test reaching past the
    /// store, to damage or inspect it).
    pub fn execute(&self, sql: &str) {
        execute(self.url.as_deref().expect("a PostgreSQL store"), sql);
    }

    /// Run `sql` directly against this store's PostgreSQL database; the first column of
    /// each row it returned, as text.
    pub fn query(&self, sql: &str) -> Vec<String> {
        query(self.url.as_deref().expect("a PostgreSQL store"), sql)
    }

    /// The PostgreSQL URL, if this store is one.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
}

fn open(backend: Backend, dir: &Path, url: Option<&str>) -> Arc<dyn Store> {
    match backend {
        Backend::Sqlite => Arc::new(SqliteStore::open(dir).expect("open SQLite store")),
        Backend::Postgres => Arc::new(PgStore::open(url.expect("a database URL")).expect("open PostgreSQL store")),
    }
}

/// Create a database no other test uses and return its URL.
fn fresh_database() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let admin = pg_admin_url().expect("JANUS_TEST_PG");
    let name = format!("janus_t{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    execute(&admin, &format!("CREATE DATABASE {name}"));
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

/// Run `sql` (statements without parameters) against the database at `url` and return
/// the first column of every row it returned, as text.
pub fn query(url: &str, sql: &str) -> Vec<String> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    // Its own thread and runtime: the caller may be inside an async test.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
            let io = tokio::spawn(conn);
            let rows = client.simple_query(&sql).await.expect("statements run");
            drop(client);
            let _ = io.await;
            rows.iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("").to_owned()),
                    _ => None,
                })
                .collect()
        })
    })
    .join()
    .expect("statements run")
}

/// Run `sql` (statements without parameters) against the database at `url`.
pub fn execute(url: &str, sql: &str) {
    query(url, sql);
}
