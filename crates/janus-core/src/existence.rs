//! Hiding whether a user exists (an app client's PreventUserExistenceErrors ENABLED) in the
//! code operations — ForgotPassword, ResendConfirmationCode, ConfirmSignUp,
//! ConfirmForgotPassword — and in sign-in. A name without an account, and an account in a
//! state that would give it away (disabled, already confirmed, nowhere to send a code), is
//! answered with the same shape and, within noise, the same time as an ordinary answer:
//! - a simulated `CodeDeliveryDetails` ([`Decoys::delivery`]): of the medium the pool uses,
//!   the typed name itself masked when it is an email or phone number (as a real delivery to
//!   that address reads), else an address derived from the name under the pool's sealing key;
//! - the same code budget (`crate::codes`): an account pays from its stored budget even when
//!   its answer is simulated; a name without one pays from a fixed-size table here, keyed by
//!   a per-process keyed hash of (pool, user key), so it holds no more than [`SLOTS`] entries
//!   whatever an attacker sends (two names may share a slot; nobody can choose which);
//! - padded time ([`Decoys::pad`]): a simulated answer waits until the median of the last
//!   real answers of that operation in that pool (which write the store and send mail);
//! - single use of a simulated challenge session ([`Decoys::use_once`]), as a real user's
//!   session is used once: a fingerprint of each used session id in a second fixed-size table
//!   (a later id landing in the same slot forgets the earlier one; nobody can choose which).
//!
//! The table and the timings live in memory: a restart, or another node, starts them afresh.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use janus_types::{CodeBudget, Error, Pool, PoolId, Result, User, UserKey};

use crate::auth::Ctx;
use crate::codes::{self, Delivery, MAX_SENDS, MAX_WRONG, WINDOW_MS};
use crate::Services;

/// Slots of the budget table for names without an account.
pub const SLOTS: usize = 65_536;
/// Real durations remembered per pool and operation.
const SAMPLES: usize = 31;
/// Pools whose timings are remembered (beyond it the oldest-seen pool is forgotten).
const MAX_TIMED_POOLS: usize = 10_000;

/// The region's decoy state.
pub(crate) struct Decoys {
    hasher: std::collections::hash_map::RandomState,
    budgets: Mutex<Vec<CodeBudget>>,
    used: Mutex<Vec<u64>>,
    timings: Mutex<HashMap<(PoolId, &'static str), VecDeque<Duration>>>,
}

impl Default for Decoys {
    fn default() -> Self {
        Self {
            hasher: Default::default(),
            budgets: Mutex::new(vec![CodeBudget::default(); SLOTS]),
            used: Mutex::new(vec![0; SLOTS]),
            timings: Mutex::default(),
        }
    }
}

/// Which budget a call draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Draw {
    /// A code "sent".
    Send,
    /// A wrong code tried.
    Guess,
}

/// Count `what` against `b`; false when the limit is reached. A guess counts only once a
/// code was sent in the window (or `pending`), as a real user's guesses count only against a
/// code they were sent.
fn charge(b: &mut CodeBudget, what: Draw, pending: bool, now_ms: i64) -> bool {
    b.roll(now_ms, WINDOW_MS);
    match what {
        Draw::Send if b.sent >= MAX_SENDS => false,
        Draw::Send => {
            b.sent += 1;
            true
        }
        Draw::Guess if b.wrong >= MAX_WRONG => false,
        Draw::Guess => {
            if pending || b.sent > 0 {
                b.wrong += 1;
            }
            true
        }
    }
}

impl Decoys {
    /// Count a simulated call for a name without an account.
    fn draw(&self, pool: &PoolId, key: &UserKey, what: Draw, now_ms: i64) -> Result<()> {
        let slot = (self.hasher.hash_one((pool, key)) as usize) % SLOTS;
        let mut budgets = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        if charge(&mut budgets[slot], what, false, now_ms) {
            Ok(())
        } else {
            Err(codes::limit_exceeded())
        }
    }

    /// Use the simulated session `id` of a name without an account: true the first time,
    /// false when it was used already.
    pub(crate) fn use_once(&self, pool: &PoolId, key: &UserKey, id: &str) -> bool {
        let print = self.hasher.hash_one((pool, key, id)) | 1; // never 0, the empty slot
        let slot = (print as usize) % SLOTS;
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used[slot] == print {
            return false;
        }
        used[slot] = print;
        true
    }

    /// A simulated delivery for `name` (see the module's header).
    pub(crate) fn delivery(ctx: &Ctx, name: &str) -> Result<Delivery> {
        let config = &ctx.pool.config;
        let wants = |a: &str| config.auto_verified_attributes.iter().chain(&config.username_attributes).any(|x| x == a);
        if name.contains('@') {
            return Ok(Delivery { destination: codes::mask(name), medium: "EMAIL", attribute: "email" });
        }
        if name.starts_with('+') && name.len() > 4 && name[1..].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Delivery { destination: codes::mask(name), medium: "SMS", attribute: "phone_number" });
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&ctx.keys.sealer()?.key).map_err(Error::internal)?;
        mac.update(b"simulated-destination\0");
        mac.update(name.to_lowercase().as_bytes());
        let d = mac.finalize().into_bytes();
        if !wants("email") && wants("phone_number") {
            let digits: String = d[2..6].iter().map(|b| char::from(b'0' + b % 10)).collect();
            let destination = codes::mask(&format!("+1555{digits}"));
            return Ok(Delivery { destination, medium: "SMS", attribute: "phone_number" });
        }
        let letter = |b: u8| char::from(b'a' + b % 26);
        let email = format!("{}@{}", letter(d[0]), letter(d[1]));
        Ok(Delivery { destination: codes::mask(&email), medium: "EMAIL", attribute: "email" })
    }

    /// Remember how long a real answer of `op` in `pool` took.
    pub(crate) fn record(&self, pool: &PoolId, op: &'static str, took: Duration) {
        let mut t = self.timings.lock().unwrap_or_else(|p| p.into_inner());
        if t.len() >= MAX_TIMED_POOLS && !t.contains_key(&(pool.clone(), op)) {
            t.clear();
        }
        let samples = t.entry((pool.clone(), op)).or_default();
        if samples.len() == SAMPLES {
            samples.pop_front();
        }
        samples.push_back(took);
    }

    /// Wait until a simulated answer of `op` in `pool`, begun at `started`, has taken as long
    /// as the median real one.
    pub(crate) fn pad(&self, pool: &PoolId, op: &'static str, started: Instant) {
        let median = {
            let t = self.timings.lock().unwrap_or_else(|p| p.into_inner());
            let Some(samples) = t.get(&(pool.clone(), op)).filter(|s| !s.is_empty()) else { return };
            let mut v: Vec<Duration> = samples.iter().copied().collect();
            v.sort();
            v[v.len() / 2]
        };
        if let Some(rest) = median.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
}

impl Services {
    /// Count `what` against whoever `name` is: the account's stored budget when `user` is
    /// one (a write, as a real answer makes), else the table of names without an account.
    fn charge_name(&self, ctx: &Ctx, name: &str, user: Option<&User>, what: Draw) -> Result<()> {
        let now = self.now_ms();
        let Some(user) = user else {
            let key = UserKey::of(name, ctx.pool.config.case_sensitive());
            return self.decoys.draw(&ctx.pool.id, &key, what, now);
        };
        let mut within = true;
        self.with_user(ctx, user, |u| {
            let pending = !u.codes.is_empty();
            within = charge(&mut u.security.code_budget, what, pending, now);
            Ok(Ok(()))
        })?;
        if within {
            Ok(())
        } else {
            Err(codes::limit_exceeded())
        }
    }

    /// What a code operation answers where the real answer would tell whether `name` has an
    /// account: a delivery that looks real, drawn from the same budget, after as long as a
    /// real one takes.
    pub(crate) fn simulated_delivery(
        &self,
        ctx: &Ctx,
        name: &str,
        user: Option<&User>,
        op: &'static str,
        started: Instant,
    ) -> Result<Delivery> {
        self.charge_name(ctx, name, user, Draw::Send)?;
        self.decoys.pad(&ctx.pool.id, op, started);
        Decoys::delivery(ctx, name)
    }

    /// What a code check answers where the real answer would give the account away: a wrong
    /// code, drawn from the same guess budget, after as long as a real check takes.
    pub(crate) fn simulated_mismatch(
        &self,
        ctx: &Ctx,
        name: &str,
        user: Option<&User>,
        op: &'static str,
        started: Instant,
    ) -> Error {
        if let Err(e) = self.charge_name(ctx, name, user, Draw::Guess) {
            return e;
        }
        self.decoys.pad(&ctx.pool.id, op, started);
        codes::mismatch()
    }

    /// Note the duration of a real answer (not a refusal at the limit, which is quick both
    /// ways).
    pub(crate) fn timed<T>(&self, pool: &Pool, op: &'static str, started: Instant, result: &Result<T>) {
        if !matches!(result, Err(Error::LimitExceededException(_))) {
            self.decoys.record(&pool.id, op, started.elapsed());
        }
    }
}

/// Where a code operation goes next.
pub(crate) enum Route {
    /// On, with the account.
    Real(User),
    /// To the simulated answer (the account, when there is one, pays its budget).
    Simulated(Option<User>),
}

/// Route a code operation: an account whose answer would not reveal anything goes on; else,
/// hiding existence, the simulated answer, and without hiding the real refusal (`revealing`,
/// or UserNotFoundException).
pub(crate) fn route(ctx: &Ctx, user: Option<User>, revealing: Option<Error>) -> Result<Route> {
    match (user, revealing) {
        (Some(u), None) => Ok(Route::Real(u)),
        (user, _) if crate::auth::password::prevents_existence_errors(ctx) => Ok(Route::Simulated(user)),
        (_, e) => Err(e.unwrap_or_else(Error::user_not_found)),
    }
}

/// Hiding existence, "no code was requested" reads as a wrong code: a name without an
/// account has no code either.
pub(crate) fn hide_expired<T>(hide: bool, result: Result<T>) -> Result<T> {
    match result {
        Err(Error::ExpiredCodeException(_)) if hide => Err(codes::mismatch()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_an_account_have_the_budget_of_real_users() {
        let d = Decoys::default();
        let pool = PoolId::parse("us-east-1_abc").unwrap();
        let key = UserKey::of("Nobody", false);
        for _ in 0..MAX_WRONG + 3 {
            d.draw(&pool, &key, Draw::Guess, 0).unwrap(); // nothing sent yet: guesses are free
        }
        for _ in 0..MAX_SENDS {
            d.draw(&pool, &key, Draw::Send, 0).unwrap();
        }
        assert!(d.draw(&pool, &UserKey::of("nobody", false), Draw::Send, 1).is_err(), "the same key");
        for _ in 0..MAX_WRONG {
            d.draw(&pool, &key, Draw::Guess, 1).unwrap();
        }
        assert!(d.draw(&pool, &key, Draw::Guess, 1).is_err(), "guesses count once a code went out");
        assert!(d.draw(&pool, &key, Draw::Send, WINDOW_MS).is_ok(), "a new window");
    }

    #[test]
    fn padding_waits_for_the_median_of_its_pool() {
        let d = Decoys::default();
        let (a, b) = (PoolId::parse("us-east-1_aaa").unwrap(), PoolId::parse("us-east-1_bbb").unwrap());
        for ms in [1, 30, 31, 32, 200] {
            d.record(&a, "Op", Duration::from_millis(ms));
        }
        let t = Instant::now();
        d.pad(&a, "Op", t);
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(31) && took < Duration::from_secs(1), "{took:?}");
        let t = Instant::now();
        d.pad(&b, "Op", t);
        assert!(t.elapsed() < Duration::from_millis(20), "another pool's timings are its own");
    }
}
