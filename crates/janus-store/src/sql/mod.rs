//! What the SQL backends share: every query and every row write is written once, here, against
//! the small [`Sql`] trait, and each backend (SQLite, PostgreSQL) only says how a statement
//! runs. Statements use `?N` placeholders (SQLite's); the PostgreSQL backend rewrites them to
//! `$N` once per prepared statement. The SQL itself stays in the dialect both engines speak
//! (`INSERT … ON CONFLICT`, `substr`, `CAST`), so one text means the same thing on both.

pub(crate) mod cache;
pub(crate) mod docs;
pub(crate) mod queries;
pub(crate) mod rows;
pub(crate) mod write;

use janus_types::Result;

/// A pool's change-log head, `(seq, epoch)`; no row is `(0, 0)`.
pub(crate) const LOG_HEAD: &str = "SELECT seq, epoch FROM log_head WHERE pool = ?1";

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arg<'a> {
    Text(&'a str),
    Int(i64),
    /// A text value that may be NULL (the optional search columns of `users`).
    OptText(Option<&'a str>),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Int(n)
    }
}

/// One result row, read by column index.
pub(crate) trait Row {
    fn text(&self, i: usize) -> Result<String>;
    fn int(&self, i: usize) -> Result<i64>;
}

/// How a backend runs a statement inside the transaction it holds.
pub(crate) trait Sql {
    /// Run a statement that returns no rows; the number of rows it changed.
    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64>;
    /// Run a statement whose row count nobody needs; a backend may send it later, with the
    /// next statement that waits for an answer (PostgreSQL pipelines them: one round trip).
    /// An error it meets may then surface from that statement.
    fn defer(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        self.exec(sql, args).map(drop)
    }
    /// Run a query and hand each row to `f`.
    fn query(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()>;
    /// Like [`Sql::query`], but for results of any size: a backend that would otherwise hold
    /// the whole result in memory fetches it in batches.
    fn stream(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        self.query(sql, args, f)
    }
    /// Called before the first statement of a transaction about `pool`: a write transaction
    /// on a shared database takes the pool's lock here, so that everything it reads about
    /// the pool is current and no other node writes the pool until it ends (SQLite's single
    /// writer gives the same for free). Read transactions do nothing.
    fn touch(&self, _pool: &str) -> Result<()> {
        Ok(())
    }
    /// The node's pool settings cache and the generation this transaction recorded when it
    /// began, for a read transaction of a backend that has one ([`cache`]).
    fn pool_cache(&self) -> Option<(&cache::PoolCache, u64)> {
        None
    }
    /// Pool settings and keys kept by the pool's log head, and the generation this read
    /// transaction recorded before its snapshot ([`cache::HeadCache`]; SQLite).
    fn head_caches(&self) -> Option<(&cache::HeadCaches, u64, u64)> {
        None
    }
    /// Called when a statement of this transaction wrote or deleted `pool`'s settings row.
    fn pool_written(&self, _pool: &str) {}
    /// Called when a statement of this transaction wrote or deleted `pool`'s keys row.
    fn keys_written(&self, _pool: &str) {}
    /// `pool`'s change-log head `(seq, epoch)` as this transaction already knows it, if it
    /// does: read along with the pool's lock, or written by the transaction itself (a
    /// backend that pipelines saves a round trip inside the pool's lock with it).
    fn known_head(&self, _pool: &str) -> Option<(i64, i64)> {
        None
    }
    /// Offered `pool`'s new change-log head: a backend that tracks heads may keep it and
    /// write it once, before its commit (true), instead of with every change (false: the
    /// caller writes it now). A transaction that logs many changes of one pool then updates
    /// the head's row once, not once per change.
    fn keep_head(&self, _pool: &str, _seq: i64, _epoch: i64) -> bool {
        false
    }
}

/// A write transaction of a SQL backend: what the shared [`crate::Write`] logic needs beyond
/// running statements.
pub(crate) trait SqlWrite: Sql {
    /// The time changes are stamped with.
    fn now_ms(&self) -> i64;
    /// Note that the transaction appended to `pool`'s change log (PostgreSQL tells other
    /// nodes at commit, so their replication streams wake).
    fn logged(&self, _pool: &str) {}
    /// Commit.
    fn finish(self: Box<Self>) -> Result<()>;
}
