//! The bounded pool of connections a node's transactions lease, with the writers' share
//! that keeps a lock holder's side read from waiting on writers queued behind its lock.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::anyhow;
use tokio_postgres::Config;

use janus_types::{Error, Result};

use super::conn::{connect_inline, PgConn, Runtime};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a connection is wanted for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    Read,
    Write,
}

/// At most `max` connections; a caller waits up to `wait` for one to come free.
///
/// Writers may hold only part of them. A write transaction waits on its pool's lock while
/// holding its connection, and the holder of that lock may need a read on the side (the
/// keyring's check for a newer version, a lookup in another transaction): were every
/// connection taken by writers queued behind the holder, that read would wait for a
/// connection that only the holder's commit can free. Reads never wait for a lock, so with
/// connections kept for them the holder always gets its read, and the queue moves.
pub(crate) struct Pool {
    pub(crate) rt: Runtime,
    config: Config,
    max: usize,
    wait: Duration,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<PgConn>,
    open: usize,
    writers: usize,
}

impl Pool {
    pub(crate) fn new(rt: Runtime, config: Config, max: usize) -> Self {
        let state = Mutex::new(PoolState { idle: Vec::new(), open: 0, writers: 0 });
        Self { rt, config, max: max.max(2), wait: Duration::from_secs(15), state, freed: Condvar::new() }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Connections writers may hold at once: half, so that reads always find one.
    fn max_writers(&self) -> usize {
        self.max / 2
    }

    /// A connection: an idle one that is still open, else a new one while under `max`.
    pub(crate) fn get(self: &std::sync::Arc<Self>, usage: Use) -> Result<Lease> {
        let deadline = std::time::Instant::now() + self.wait;
        let writer = usage == Use::Write;
        let mut state = lock(&self.state);
        loop {
            let turn = !writer || state.writers < self.max_writers();
            while let Some(mut c) = if turn { state.idle.pop() } else { None } {
                c.check_idle();
                if !c.is_closed() {
                    state.writers += usize::from(writer);
                    return Ok(Lease { pool: self.clone(), conn: Some(c), broken: false, writer });
                }
                state.open -= 1;
            }
            if turn && state.open < self.max {
                state.open += 1;
                state.writers += usize::from(writer);
                drop(state);
                return match connect_inline(&self.rt, &self.config) {
                    Ok(c) => Ok(Lease { pool: self.clone(), conn: Some(c), broken: false, writer }),
                    Err(e) => {
                        let mut state = lock(&self.state);
                        state.open -= 1;
                        state.writers -= usize::from(writer);
                        drop(state);
                        self.freed.notify_all();
                        Err(e)
                    }
                };
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Err(Error::Unavailable(anyhow!("all {} PostgreSQL connections stayed busy", self.max)));
            }
            state = self.freed.wait_timeout(state, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// A connection on loan; back to the pool when dropped, unless it broke.
pub(crate) struct Lease {
    pool: std::sync::Arc<Pool>,
    conn: Option<PgConn>,
    broken: bool,
    writer: bool,
}

impl Lease {
    /// The runtime (the pool's) and the connection, borrowed side by side.
    pub(crate) fn parts(&mut self) -> (&Runtime, &mut PgConn) {
        (&self.pool.rt, self.conn.as_mut().expect("connection present until drop"))
    }

    /// Do not return this connection to the pool (its session state is unknown).
    pub(crate) fn discard(&mut self) {
        self.broken = true;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(c) = self.conn.take() else { return };
        let mut state = lock(&self.pool.state);
        state.writers -= usize::from(self.writer);
        if self.broken || c.is_closed() {
            state.open -= 1;
        } else {
            state.idle.push(c);
        }
        drop(state);
        // All: a writer woken while writers are at their share would wait again, and the
        // reader behind it would not have been told.
        self.pool.freed.notify_all();
    }
}
