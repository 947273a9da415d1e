//! The write transaction [`crate::Store::write`] hands out on PostgreSQL. It opens nothing
//! until its first statement: when that statement is about a pool ([`Sql::touch`], which
//! every pool-scoped query and write calls first) the request joins the pool's write batch
//! ([`super::group`]); anything else gets a transaction of its own, as before batching.

use std::cell::RefCell;

use janus_types::Result;

use super::group::{self, Member};
use super::tx::WriteTx;
use super::PgStore;
use crate::sql::cache::PoolCache;
use crate::sql::{Arg, Row, Sql, SqlWrite};

/// A request's write transaction.
pub(super) struct PgWrite<'s> {
    store: &'s PgStore,
    now_ms: i64,
    bound: RefCell<Bound>,
}

enum Bound {
    /// Nothing sent yet.
    Unbound,
    /// A physical transaction of its own.
    Solo(Box<WriteTx>),
    /// A turn in its pool's batch.
    Member(Member),
}

impl<'s> PgWrite<'s> {
    pub(super) fn new(store: &'s PgStore, now_ms: i64) -> Self {
        Self { store, now_ms, bound: RefCell::new(Bound::Unbound) }
    }

    /// Run `f` on the physical transaction, opening one of its own if none is bound yet.
    fn with<T>(&self, f: impl FnOnce(&WriteTx) -> Result<T>) -> Result<T> {
        if matches!(*self.bound.borrow(), Bound::Unbound) {
            let tx = self.store.write_tx(self.now_ms)?;
            *self.bound.borrow_mut() = Bound::Solo(Box::new(tx));
        }
        match &*self.bound.borrow() {
            Bound::Solo(tx) => f(tx),
            Bound::Member(m) => f(m.tx()),
            Bound::Unbound => unreachable!("bound above"),
        }
    }

    /// Run `f` on the physical transaction if one is bound.
    fn if_bound(&self, f: impl FnOnce(&WriteTx)) {
        match &*self.bound.borrow() {
            Bound::Solo(tx) => f(tx),
            Bound::Member(m) => f(m.tx()),
            Bound::Unbound => {}
        }
    }
}

impl Sql for PgWrite<'_> {
    fn exec(&self, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        self.with(|tx| tx.exec(sql, args))
    }

    fn defer(&self, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        self.with(|tx| tx.defer(sql, args))
    }

    fn query(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        self.with(|tx| tx.query(sql, args, f))
    }

    fn stream(&self, sql: &str, args: &[Arg<'_>], f: &mut dyn FnMut(&dyn Row) -> Result<()>) -> Result<()> {
        self.with(|tx| tx.stream(sql, args, f))
    }

    fn touch(&self, pool: &str) -> Result<()> {
        if matches!(*self.bound.borrow(), Bound::Unbound) {
            let member = group::join(&self.store.groups, self.store, pool, self.now_ms)?;
            *self.bound.borrow_mut() = Bound::Member(member);
        }
        self.with(|tx| tx.touch(pool))
    }

    fn pool_cache(&self) -> Option<(&PoolCache, u64)> {
        None
    }

    fn pool_written(&self, pool: &str) {
        self.if_bound(|tx| tx.pool_written(pool));
    }

    fn known_head(&self, pool: &str) -> Option<(i64, i64)> {
        match &*self.bound.borrow() {
            Bound::Solo(tx) => tx.known_head(pool),
            Bound::Member(m) => m.tx().known_head(pool),
            Bound::Unbound => None,
        }
    }

    fn keep_head(&self, pool: &str, seq: i64, epoch: i64) -> bool {
        match &*self.bound.borrow() {
            Bound::Solo(tx) => tx.keep_head(pool, seq, epoch),
            Bound::Member(m) => m.tx().keep_head(pool, seq, epoch),
            Bound::Unbound => false,
        }
    }
}

impl SqlWrite for PgWrite<'_> {
    fn now_ms(&self) -> i64 {
        self.now_ms
    }

    fn logged(&self, pool: &str) {
        self.if_bound(|tx| tx.logged(pool));
    }

    fn finish(self: Box<Self>) -> Result<()> {
        match self.bound.into_inner() {
            Bound::Unbound => Ok(()),
            Bound::Solo(tx) => tx.finish(),
            Bound::Member(m) => m.commit(),
        }
    }
}
