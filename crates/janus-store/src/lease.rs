//! Region-wide roles that exactly one node holds at a time — the puller of a pool, say —
//! and the in-process half every backend shares: a name is held at most once per process.
//! The shared backend adds a PostgreSQL session advisory lock on top, which the database
//! releases by itself when the holding node dies (its connection ends), so another node
//! takes the role over at its next try.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// A held role; released when dropped.
pub trait Lease: Send {
    /// Whether the role is still held (false once the shared backend lost the connection
    /// that held it: another node may hold it now, and this one must stop acting on it).
    fn held(&self) -> bool;
}

/// Names held in this process.
#[derive(Default, Clone)]
pub(crate) struct Held(Arc<Mutex<HashSet<String>>>);

impl Held {
    /// Take `name` for this process; `None` when another thread here holds it.
    pub(crate) fn take(&self, name: &str) -> Option<HeldName> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        set.insert(name.to_owned()).then(|| HeldName { held: self.clone(), name: name.to_owned() })
    }
}

/// A name held in this process, given back when dropped.
pub(crate) struct HeldName {
    held: Held,
    name: String,
}

impl HeldName {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for HeldName {
    fn drop(&mut self) {
        self.held.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.name);
    }
}

/// The embedded store's lease: one process per data directory, so holding the name here is
/// holding it in the region.
impl Lease for HeldName {
    fn held(&self) -> bool {
        true
    }
}
