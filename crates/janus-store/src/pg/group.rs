//! Group commit: the writes of several requests to one pool share one PostgreSQL transaction.
//!
//! One pool's writes serialize on its advisory lock (see [`super`]), so its write rate is one
//! over the time the lock is held — and most of that time is the commit's round trip and
//! `fsync`. Here the requests of this node that write one pool at the same moment take turns
//! in one physical transaction (a [`Batch`]), each inside a savepoint of its own, and the batch
//! commits once for all of them:
//!
//! - The first request to write a pool opens a batch: a connection, `BEGIN`, the pool's lock
//!   and log head. Requests that come while it is open join it and wait for their turn (at
//!   most [`MAX_BATCH`] per batch: PostgreSQL keeps the ids of 64 subtransactions per
//!   transaction in shared memory, and more slows every other snapshot down).
//! - A request's turn is everything between its first statement about the pool and its
//!   commit: it runs alone in the transaction, sees what earlier members wrote, and its
//!   savepoint is released (one round trip, so its own errors are its own) or rolled back.
//! - A member that ends its turn with nobody waiting closes the batch and commits it; every
//!   member's commit returns that one outcome. A request alone in its batch commits as it
//!   did without batching: the same round trips.
//!
//! Nothing is acknowledged before the physical commit, so a crash or a failed commit loses
//! only writes nobody was told about; and the order of turns is the order of `seq`s, so the
//! change log stays gap-free (see [`crate::sql::write`]). While one batch commits, the next
//! one gathers members and waits for the pool's lock in PostgreSQL: commits and work overlap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::anyhow;

use janus_types::{Error, Result};

use super::tx::{Marks, WriteTx};
use super::PgStore;
use crate::sql::{Sql, SqlWrite};

/// Members at most in one batch (see the module header).
pub(super) const MAX_BATCH: usize = 32;

/// How long a request waits for its turn: as long as a session waits for a lock.
const TURN_WAIT: Duration = Duration::from_secs(15);

/// How long a member whose writes are in a batch waits for the batch's commit (longer than
/// any statement may run).
const OUTCOME_WAIT: Duration = Duration::from_secs(120);

/// The batches of a node, one open at most per pool.
#[derive(Default)]
pub(super) struct Groups {
    open: Mutex<HashMap<String, Arc<Batch>>>,
    /// Batches committed, and the members' writes they carried.
    commits: AtomicU64,
    writes: AtomicU64,
}

impl Groups {
    /// Batches committed, and the writes they carried.
    pub(super) fn counts(&self) -> (u64, u64) {
        (self.commits.load(Ordering::Relaxed), self.writes.load(Ordering::Relaxed))
    }

    fn committed(&self, r: &Result<()>, writes: usize) {
        if r.is_ok() {
            self.commits.fetch_add(1, Ordering::Relaxed);
            self.writes.fetch_add(writes as u64, Ordering::Relaxed);
        }
    }
}

/// One physical transaction shared by the members that joined it.
struct Batch {
    pool: String,
    turns: Mutex<Turns>,
    changed: Condvar,
    /// The transaction between turns (a member holds it during its own); `None` before the
    /// first member opened it, or when opening it failed.
    tx: Mutex<Option<Box<WriteTx>>>,
}

#[derive(Default)]
struct Turns {
    /// A member is in its turn.
    running: bool,
    /// Members waiting for their turn.
    waiting: usize,
    /// Members that joined.
    joined: usize,
    /// Members whose savepoint was released: their writes ride on the batch's commit.
    done: usize,
    /// The batch's commit, once it is known: `Err((unavailable, message))`.
    outcome: Option<std::result::Result<(), (bool, String)>>,
}

/// A request's place in a batch, holding the transaction during its turn.
pub(super) struct Member {
    groups: Arc<Groups>,
    batch: Arc<Batch>,
    /// The member is in its turn (until it commits or is dropped).
    in_turn: bool,
    tx: Option<Box<WriteTx>>,
    marks: Option<Marks>,
}

/// An error with its causes, to hand to every member of a batch.
fn chain(e: &Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Join (or open) `pool`'s batch and wait for this request's turn.
pub(super) fn join(groups: &Arc<Groups>, store: &PgStore, pool: &str, now_ms: i64) -> Result<Member> {
    let batch = {
        let mut open = lock(&groups.open);
        let batch = open.entry(pool.to_owned()).or_insert_with(|| Batch::new(pool)).clone();
        let mut turns = lock(&batch.turns);
        turns.joined += 1;
        turns.waiting += 1;
        if turns.joined >= MAX_BATCH {
            open.remove(pool);
        }
        drop(turns);
        batch
    };
    let tx = batch.wait_turn()?;
    let mut member = Member { groups: groups.clone(), batch, in_turn: true, tx: None, marks: None };
    let tx = match tx {
        Some(tx) => tx,
        // The first turn opens the transaction (or a later one, when that failed).
        None => {
            let tx = store.write_tx(now_ms)?;
            tx.touch(pool)?;
            Box::new(tx)
        }
    };
    member.marks = Some(tx.savepoint());
    member.tx = Some(tx);
    Ok(member)
}

impl Batch {
    fn new(pool: &str) -> Arc<Self> {
        Arc::new(Batch {
            pool: pool.to_owned(),
            turns: Mutex::new(Turns::default()),
            changed: Condvar::new(),
            tx: Mutex::new(None),
        })
    }

    /// Wait until no member is in its turn, then take it: the transaction, if it is open.
    fn wait_turn(&self) -> Result<Option<Box<WriteTx>>> {
        let deadline = Instant::now() + TURN_WAIT;
        let mut turns = lock(&self.turns);
        while turns.running {
            let now = Instant::now();
            if now >= deadline {
                turns.waiting -= 1;
                return Err(Error::Unavailable(anyhow!("waited {TURN_WAIT:?} for the pool's write turn")));
            }
            turns = self.changed.wait_timeout(turns, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
        turns.running = true;
        turns.waiting -= 1;
        Ok(lock(&self.tx).take())
    }

    /// The batch's commit, as its committer reported it.
    fn wait_outcome(&self) -> Result<()> {
        let deadline = Instant::now() + OUTCOME_WAIT;
        let mut turns = lock(&self.turns);
        loop {
            if let Some(outcome) = &turns.outcome {
                return outcome.clone().map_err(|(unavailable, msg)| {
                    let e = anyhow!(msg);
                    if unavailable {
                        Error::Unavailable(e)
                    } else {
                        Error::internal(e)
                    }
                });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Unavailable(anyhow!("the write batch's commit did not report")));
            }
            turns = self.changed.wait_timeout(turns, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn set_outcome(&self, r: &Result<()>) {
        let mut turns = lock(&self.turns);
        turns.running = false;
        turns.outcome = Some(r.as_ref().map(|_| ()).map_err(|e| (e.is_unavailable(), chain(e))));
        drop(turns);
        self.changed.notify_all();
    }
}

impl Member {
    /// The transaction, during this member's turn.
    pub(super) fn tx(&self) -> &WriteTx {
        self.tx.as_deref().expect("a member holds the transaction during its turn")
    }

    /// Commit this member's writes: at once when it is alone in its batch, else with the
    /// batch (which this member commits if nobody waits behind it).
    pub(super) fn commit(mut self) -> Result<()> {
        let tx = self.tx.take().expect("a member holds the transaction during its turn");
        let marks = self.marks.take();
        self.in_turn = false;
        if self.close_if(|t| t.done == 0 && t.waiting == 0) {
            // Alone, and nobody can join any more: one round trip, as without batching.
            tx.release_later();
            let r = tx.finish();
            self.groups.committed(&r, 1);
            self.batch.set_outcome(&r);
            return r;
        }
        match tx.release() {
            Ok(()) => {
                self.end_turn(Some(tx), true);
                self.batch.wait_outcome()
            }
            Err(e) => {
                // This member's statements failed: undo them, keep the others'.
                if let Some(m) = marks {
                    tx.rollback_to(m);
                }
                self.end_turn(Some(tx), false);
                Err(e)
            }
        }
    }

    /// Close the batch to new members if `cond` holds of its turns (checked and done under
    /// the lock joiners take, so nobody joins in between).
    fn close_if(&self, cond: impl FnOnce(&Turns) -> bool) -> bool {
        let mut open = lock(&self.groups.open);
        let turns = lock(&self.batch.turns);
        if !cond(&turns) {
            return false;
        }
        if open.get(&self.batch.pool).is_some_and(|b| Arc::ptr_eq(b, &self.batch)) {
            open.remove(&self.batch.pool);
        }
        true
    }

    /// End this member's turn: hand the transaction to the next member, or — nobody
    /// waiting — close the batch and commit it (roll it back when no member's writes are
    /// in it).
    fn end_turn(&self, tx: Option<Box<WriteTx>>, done: bool) {
        let done = {
            let mut open = lock(&self.groups.open);
            let mut turns = lock(&self.batch.turns);
            turns.done += usize::from(done);
            if turns.waiting > 0 {
                turns.running = false;
                *lock(&self.batch.tx) = tx;
                drop(turns);
                drop(open);
                self.batch.changed.notify_all();
                return;
            }
            // Under the joiners' lock: nobody joins a batch that is about to commit.
            if open.get(&self.batch.pool).is_some_and(|b| Arc::ptr_eq(b, &self.batch)) {
                open.remove(&self.batch.pool);
            }
            turns.done
        };
        match tx {
            Some(tx) if done > 0 => {
                let r = tx.finish();
                self.groups.committed(&r, done);
                self.batch.set_outcome(&r);
            }
            // Nothing to keep: dropped, the transaction rolls back.
            _ => self.batch.set_outcome(&Ok(())),
        }
    }
}

impl Drop for Member {
    /// A member dropped during its turn (its request failed, or never committed) rolls back
    /// to its savepoint and leaves the transaction to the others.
    fn drop(&mut self) {
        if !self.in_turn {
            return;
        }
        let tx = self.tx.take();
        if let (Some(tx), Some(marks)) = (&tx, self.marks.take()) {
            tx.rollback_to(marks);
        }
        self.end_turn(tx, false);
    }
}
