//! The injected environment: a clock and a source of randomness, so that tests can move
//! time and replay seeds instead of sleeping or hoping.

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time, in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_ms(&self) -> i64;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A source of unpredictable bytes.
pub trait Random: Send + Sync + 'static {
    /// Fill `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}
