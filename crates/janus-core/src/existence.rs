//! Hiding whether a user exists (an app client's PreventUserExistenceErrors ENABLED) in the
//! code operations: ForgotPassword, ResendConfirmationCode, ConfirmSignUp and
//! ConfirmForgotPassword answer an unknown user — and a known one in a state that would
//! give it away (disabled, already confirmed, nowhere to send a code) — with the same shape
//! and, within noise, the same time as an ordinary answer:
//! - a simulated `CodeDeliveryDetails` ([`Decoys::delivery`]): stable for a name (derived
//!   under the pool's sealing key), of the medium the pool would use, masked like a real one;
//! - the same code budget a real user has (`crate::codes`), kept here in memory for names that
//!   have no user entity, so "Attempt limit exceeded" comes after as many calls either way;
//! - padded time ([`Decoys::pad`]): a simulated answer waits until the median duration of
//!   the last real answers of that operation, which write the store and send mail.
//!
//! Sign-in hides the same states in `auth::password` and `auth::srp`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use janus_types::{CodeBudget, Error, PoolId, Result};

use crate::auth::Ctx;
use crate::codes::{self, Delivery, MAX_SENDS, MAX_WRONG, WINDOW_MS};

/// Names tracked without a user entity, at most (oldest windows are dropped first).
const MAX_TRACKED: usize = 100_000;
/// Real durations remembered per operation.
const SAMPLES: usize = 31;

/// The region's decoy state.
#[derive(Default)]
pub struct Decoys {
    budgets: Mutex<HashMap<(PoolId, String), CodeBudget>>,
    timings: Mutex<HashMap<&'static str, VecDeque<Duration>>>,
}

/// Which budget a simulated call draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Draw {
    /// A code "sent".
    Send,
    /// A wrong code tried.
    Guess,
}

impl Decoys {
    /// Count a simulated call for `name`; [`codes::limit_exceeded`] once a real user would be
    /// refused too.
    pub fn draw(&self, pool: &PoolId, name: &str, what: Draw, now_ms: i64) -> Result<()> {
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        if budgets.len() >= MAX_TRACKED {
            budgets.retain(|_, b| b.window_start_ms + WINDOW_MS > now_ms);
        }
        let b = budgets.entry((pool.clone(), name.to_lowercase())).or_default();
        b.roll(now_ms, WINDOW_MS);
        let (used, max) = match what {
            Draw::Send => (&mut b.sent, MAX_SENDS),
            Draw::Guess => (&mut b.wrong, MAX_WRONG),
        };
        if *used >= max {
            return Err(codes::limit_exceeded());
        }
        *used += 1;
        Ok(())
    }

    /// A simulated delivery for `name`: the medium the pool sends codes by, and a masked
    /// destination derived from the name under the pool's sealing key.
    pub fn delivery(ctx: &Ctx, name: &str) -> Result<Delivery> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&ctx.keys.sealer()?.key).map_err(Error::internal)?;
        mac.update(b"simulated-destination\0");
        mac.update(name.to_lowercase().as_bytes());
        let d = mac.finalize().into_bytes();
        let letter = |b: u8| char::from(b'a' + b % 26);
        let config = &ctx.pool.config;
        let wants = |a: &str| config.auto_verified_attributes.iter().chain(&config.username_attributes).any(|x| x == a);
        if !wants("email") && wants("phone_number") {
            let digits: String = d[2..6].iter().map(|b| char::from(b'0' + b % 10)).collect();
            return Ok(Delivery {
                destination: codes::mask(&format!("+1555{digits}")),
                medium: "SMS",
                attribute: "phone_number",
            });
        }
        let email = format!("{}@{}", letter(d[0]), letter(d[1]));
        Ok(Delivery { destination: codes::mask(&email), medium: "EMAIL", attribute: "email" })
    }

    /// Remember how long a real answer of `op` took.
    pub fn record(&self, op: &'static str, took: Duration) {
        let mut t = self.timings.lock().unwrap_or_else(|p| p.into_inner());
        let samples = t.entry(op).or_default();
        if samples.len() == SAMPLES {
            samples.pop_front();
        }
        samples.push_back(took);
    }

    /// Wait until a simulated answer of `op`, begun at `started`, has taken as long as the
    /// median real one.
    pub fn pad(&self, op: &'static str, started: Instant) {
        let median = {
            let t = self.timings.lock().unwrap_or_else(|p| p.into_inner());
            let Some(samples) = t.get(op).filter(|s| !s.is_empty()) else { return };
            let mut v: Vec<Duration> = samples.iter().copied().collect();
            v.sort();
            v[v.len() / 2]
        };
        if let Some(rest) = median.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_names_have_the_budget_of_real_users() {
        let d = Decoys::default();
        let pool = PoolId::parse("us-east-1_abc").unwrap();
        for _ in 0..MAX_SENDS {
            d.draw(&pool, "Nobody", Draw::Send, 0).unwrap();
        }
        assert!(d.draw(&pool, "nobody", Draw::Send, 1).is_err(), "names are counted case-blind");
        assert!(d.draw(&pool, "nobody", Draw::Guess, 1).is_ok(), "guesses have their own budget");
        assert!(d.draw(&pool, "nobody", Draw::Send, WINDOW_MS).is_ok(), "a new window");
    }

    #[test]
    fn padding_waits_for_the_median() {
        let d = Decoys::default();
        for ms in [1, 30, 31, 32, 200] {
            d.record("Op", Duration::from_millis(ms));
        }
        let t = Instant::now();
        d.pad("Op", t);
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(31) && took < Duration::from_secs(1), "{took:?}");
    }
}
