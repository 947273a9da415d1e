//! Roles on the shared backend: a session advisory lock per role, all held on one connection
//! of the node's own. PostgreSQL releases a session's locks when its connection ends, so a
//! node killed with `kill -9` (or cut off from the database) gives its roles up by itself,
//! and another node's next [`crate::Store::try_lease`] takes them. Every reconnection starts
//! a new epoch: a lease taken in an earlier epoch reports itself lost, since another node
//! may have taken the role in between.

use std::sync::{Arc, Mutex, MutexGuard};

use janus_types::Result;

use super::conn::{connect, PgConn};
use super::pool::Pool;
use crate::lease::{Held, HeldName};
use crate::Lease;

/// The node's lease connection.
pub(crate) struct Leases {
    pool: Arc<Pool>,
    state: Arc<Mutex<State>>,
    held: Held,
}

struct State {
    conn: Option<PgConn>,
    epoch: u64,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The advisory lock key of a role (a namespace apart from the pools' write locks).
fn key(name: &str) -> i64 {
    super::tx::fnv1a(format!("janus-lease:{name}").as_bytes()) as i64
}

impl Leases {
    pub(crate) fn new(pool: Arc<Pool>) -> Self {
        Self { pool, state: Arc::new(Mutex::new(State { conn: None, epoch: 0 })), held: Held::default() }
    }

    pub(crate) fn try_take(&self, name: &str) -> Result<Option<Box<dyn Lease>>> {
        let Some(here) = self.held.take(name) else { return Ok(None) };
        let mut state = lock(&self.state);
        if state.conn.as_ref().is_none_or(PgConn::is_closed) {
            state.conn = Some(connect(&self.pool.rt, self.pool.config())?);
            state.epoch += 1;
        }
        let epoch = state.epoch;
        let conn = state.conn.as_mut().expect("connected above");
        let rows = conn.query(&self.pool.rt, "SELECT pg_try_advisory_lock(?1)", &[key(name).into()]);
        let got: bool = match rows {
            Ok(rows) => rows.first().and_then(|r| r.try_get(0).ok()).unwrap_or(false),
            Err(e) => {
                state.conn = None;
                return Err(e);
            }
        };
        drop(state);
        Ok(got.then(|| {
            Box::new(PgLease { pool: self.pool.clone(), state: self.state.clone(), epoch, here }) as Box<dyn Lease>
        }))
    }
}

struct PgLease {
    pool: Arc<Pool>,
    state: Arc<Mutex<State>>,
    epoch: u64,
    here: HeldName,
}

impl Lease for PgLease {
    fn held(&self) -> bool {
        let state = lock(&self.state);
        state.epoch == self.epoch && state.conn.as_ref().is_some_and(|c| !c.is_closed())
    }
}

impl Drop for PgLease {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        if state.epoch != self.epoch {
            return; // that session, and its lock, are gone already
        }
        if let Some(conn) = state.conn.as_mut() {
            let unlock = conn.query(&self.pool.rt, "SELECT pg_advisory_unlock(?1)", &[key(self.here.name()).into()]);
            if unlock.is_err() {
                state.conn = None;
            }
        }
    }
}
