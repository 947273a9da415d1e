//! Per-trigger counters for `/metrics`: calls, failures and the time spent waiting for the
//! functions (a sum, so `rate(sum)/rate(count)` is the mean latency).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::Trigger;

/// What one trigger has done since start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Calls made.
    pub calls: u64,
    /// Calls that ended in an error.
    pub errors: u64,
    /// Seconds spent in calls.
    pub seconds: f64,
}

/// The counters of every trigger.
#[derive(Debug, Default)]
pub struct TriggerStats(Mutex<BTreeMap<Trigger, Counts>>);

impl TriggerStats {
    /// Count one call.
    pub fn record(&self, t: Trigger, took: Duration, ok: bool) {
        let mut m = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let c = m.entry(t).or_default();
        c.calls += 1;
        c.errors += u64::from(!ok);
        c.seconds += took.as_secs_f64();
    }

    /// Every trigger called so far, by name.
    pub fn snapshot(&self) -> Vec<(&'static str, Counts)> {
        let m = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.iter().map(|(t, c)| (t.name(), *c)).collect()
    }
}
