//! A node's cache of pool settings, for a store shared by several nodes. Nearly every request
//! reads its pool (the role check, then the operation), and on a shared database each read
//! is a round trip and a JSON body to parse; the settings themselves change rarely.
//!
//! Freshness: a write transaction that changed a pool's row forgets it here once it has
//! committed, and tells the other nodes (their listeners call [`PoolCache::forget`] when the
//! notification arrives), so a change made through any node is seen by every node within the
//! notification's delay. While a node's listener is not connected the cache is off (empty,
//! and not filled), since it would miss what other nodes change. Only read transactions use
//! it: a write reads the pool's row itself, under the pool's lock.
//!
//! Races: every forget advances a generation, and a read transaction records the generation
//! before its snapshot is taken; it fills the cache only if nothing was forgotten since. A
//! body read from a snapshot older than a change therefore never lands after that change's
//! forget, and one that landed before it is removed by it.
//!
//! A bound for what no notification reports (a listening connection that died without the
//! node noticing): an entry is used for at most [`MAX_AGE`] after it was read.
//!
//! [`HeadCache`] is the embedded backend's kind: no notifications, the pool's log head read in
//! the transaction's own snapshot (one small row) decides whether a kept value is current.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use janus_types::{Pool, PoolKeys};

/// Pools kept at most; past it the cache starts over (a region rarely has this many).
const MAX_POOLS: usize = 4096;

/// How long an entry is used, notified or not.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(2);

/// The pool settings cache of a node (see the module header).
pub(crate) type PoolCache = Cache<Arc<Pool>>;

/// Values by pool id, as the module header describes.
pub(crate) struct Cache<V> {
    state: Mutex<State<V>>,
}

struct State<V> {
    live: bool,
    generation: u64,
    pools: HashMap<String, (Instant, V)>,
}

impl<V> Default for Cache<V> {
    fn default() -> Self {
        Self { state: Mutex::new(State { live: false, generation: 0, pools: HashMap::new() }) }
    }
}

impl<V: Clone> Cache<V> {
    fn state(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The generation a transaction starting now records; `None` while the cache is off.
    pub(crate) fn generation(&self) -> Option<u64> {
        let s = self.state();
        s.live.then_some(s.generation)
    }

    pub(crate) fn get(&self, id: &str) -> Option<V> {
        let s = self.state();
        match s.pools.get(id) {
            Some((read, v)) if s.live && read.elapsed() < MAX_AGE => Some(v.clone()),
            _ => None,
        }
    }

    /// `f` of the entry for `id`, without copying it out (the same rules as [`Cache::get`]).
    pub(crate) fn peek<R>(&self, id: &str, f: impl FnOnce(&V) -> R) -> Option<R> {
        let s = self.state();
        match s.pools.get(id) {
            Some((read, v)) if s.live && read.elapsed() < MAX_AGE => Some(f(v)),
            _ => None,
        }
    }

    /// Keep `value` for `id`, read by a transaction that recorded `generation`, unless
    /// something was forgotten since.
    pub(crate) fn put(&self, generation: u64, id: &str, value: &V) {
        let mut s = self.state();
        if !s.live || s.generation != generation {
            return;
        }
        if s.pools.len() >= MAX_POOLS {
            s.pools.clear();
        }
        s.pools.insert(id.to_owned(), (Instant::now(), value.clone()));
    }

    /// A pool's row changed (here, committed; or on another node, notified).
    pub(crate) fn forget(&self, id: &str) {
        let mut s = self.state();
        s.generation += 1;
        s.pools.remove(id);
    }

    /// Turn the cache on (the listener is connected: no change goes unheard from now on) or
    /// off; either way it starts empty.
    pub(crate) fn set_live(&self, live: bool) {
        let mut s = self.state();
        s.generation += 1;
        s.pools.clear();
        s.live = live;
    }
}

/// A pool's settings and keys as a read transaction found them, kept with the pool's
/// change-log head `(seq, epoch)` of that transaction's snapshot ([`HeadCache`]).
#[derive(Default)]
pub(crate) struct HeadCaches {
    /// Pool settings.
    pub(crate) pools: HeadCache<Pool>,
    /// Pool keys.
    pub(crate) keys: HeadCache<PoolKeys>,
}

impl HeadCaches {
    /// A transaction of this process wrote `pool`'s settings or keys row.
    pub(crate) fn forget(&self, pool: &str) {
        self.pools.forget(pool);
        self.keys.forget(pool);
    }
}

/// Values by pool id, each kept with the change-log head of the snapshot it was read in: a
/// later transaction whose snapshot has the same head uses it. Every change to a pool's rows
/// is a logged change that moves the head, whoever makes it (another process on the same
/// file included), and the head is read in the same snapshot, so an equal head means equal
/// rows. Writes this process makes without logging (a demoted region's pool row, rewritten
/// along with a log reset) also [`HeadCache::forget`] the entry, with the same generation
/// rule as [`Cache`]: a value read before a forget is never kept after it.
pub(crate) struct HeadCache<V> {
    state: Mutex<HeadState<V>>,
}

struct HeadState<V> {
    generation: u64,
    pools: HashMap<String, ((i64, i64), Arc<V>)>,
}

impl<V> Default for HeadCache<V> {
    fn default() -> Self {
        Self { state: Mutex::new(HeadState { generation: 0, pools: HashMap::new() }) }
    }
}

impl<V> HeadCache<V> {
    fn state(&self) -> MutexGuard<'_, HeadState<V>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The generation a transaction starting now records.
    pub(crate) fn generation(&self) -> u64 {
        self.state().generation
    }

    /// The value kept for `id` at `head`, if there is one (shared: the lock is held only to
    /// take a reference, a caller copies it after).
    pub(crate) fn get(&self, id: &str, head: (i64, i64)) -> Option<Arc<V>> {
        self.state().pools.get(id).filter(|(h, _)| *h == head).map(|(_, v)| v.clone())
    }

    /// Keep `value`, read for `id` at `head` by a transaction that recorded `generation`.
    pub(crate) fn put(&self, generation: u64, id: &str, head: (i64, i64), value: Arc<V>) {
        let mut s = self.state();
        if s.generation != generation {
            return;
        }
        if s.pools.len() >= MAX_POOLS {
            s.pools.clear();
        }
        s.pools.insert(id.to_owned(), (head, value));
    }

    /// Drop what is kept for `id`.
    pub(crate) fn forget(&self, id: &str) {
        let mut s = self.state();
        s.generation += 1;
        s.pools.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_value_serves_only_its_head_and_a_read_older_than_a_forget_is_not_kept() {
        let cache = HeadCache::<String>::default();
        let (id, v) = ("us-east-1_AAAAAAAAA", "settings".to_owned());
        let before = cache.generation();
        cache.put(before, id, (5, 1), Arc::new(v.clone()));
        assert_eq!(cache.get(id, (5, 1)).as_deref(), Some(&v));
        assert_eq!(cache.get(id, (6, 1)), None, "a newer head");
        assert_eq!(cache.get(id, (5, 2)), None, "another epoch");
        let old = cache.generation();
        cache.forget(id);
        cache.put(old, id, (5, 1), Arc::new(v));
        assert_eq!(cache.get(id, (5, 1)), None, "read before the forget");
    }

    #[test]
    fn off_until_live_and_a_read_older_than_a_forget_is_not_kept() {
        let cache = Cache::<String>::default();
        let (id, body) = ("us-east-1_AAAAAAAAA", "settings".to_owned());
        assert_eq!(cache.generation(), None);
        cache.set_live(true);
        let before = cache.generation().unwrap_or_else(|| panic!("live"));
        cache.forget(id);
        cache.put(before, id, &body);
        assert!(cache.get(id).is_none(), "a body read before the forget was kept");
        let now = cache.generation().unwrap_or_else(|| panic!("live"));
        cache.put(now, id, &body);
        assert_eq!(cache.get(id), Some(body));
        cache.set_live(false);
        assert!(cache.get(id).is_none());
        let off = cache.generation();
        assert_eq!(off, None, "off until the listener is back");
    }
}
