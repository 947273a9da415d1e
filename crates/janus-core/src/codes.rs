//! One-time codes (sign-up confirmation, password reset, attribute verification): six
//! digits, sent through the outbox, stored only as a keyed digest in the user entity,
//! single-use and expiring. Each user has one budget per window across every code and
//! purpose ([`janus_types::CodeBudget`]): at most [`MAX_SENDS`] codes sent and
//! [`MAX_WRONG`] wrong codes tried per [`WINDOW_MS`], so a resend never buys fresh guesses
//! (issue 13): guessing a six-digit code takes 200,000 windows on average, and mail flooding
//! stops at five messages an hour. Past either limit the answer is Cognito's
//! `LimitExceededException`. Also where the masked `CodeDeliveryDetails` are built.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use janus_crypto::random;
use janus_types::{Error, PendingCode, Pool, Result, User};

use crate::delivery::Letter;
use crate::Services;

/// Wrong guesses allowed on one code before it is refused outright.
pub const MAX_ATTEMPTS: u32 = 5;
/// Codes sent to one user per window.
pub const MAX_SENDS: u32 = 5;
/// Wrong codes one user may try per window, whatever code they were sent.
pub const MAX_WRONG: u32 = 5;
/// The budget's window.
pub const WINDOW_MS: i64 = 3600 * 1000;

/// Cognito's answer to a wrong code.
pub fn mismatch() -> Error {
    Error::CodeMismatchException("Invalid verification code provided, please try again.".into())
}

/// Cognito's answer once a limit is reached.
pub fn limit_exceeded() -> Error {
    Error::LimitExceededException("Attempt limit exceeded, please try after some time.".into())
}

/// Where a code went, as Cognito's `CodeDeliveryDetailsType`.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Masked destination (`a***@e***`).
    pub destination: String,
    /// `EMAIL` or `SMS`.
    pub medium: &'static str,
    /// The attribute the destination came from.
    pub attribute: &'static str,
}

/// Mask an address the way Cognito does: first character, then `***`.
pub fn mask(value: &str) -> String {
    match value.split_once('@') {
        Some((local, domain)) => {
            let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
            format!("{}***@{}***", first(local), first(domain))
        }
        None => {
            let tail: String = value.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
            format!("+*******{tail}")
        }
    }
}

/// Where to send a code for `user`: `attribute` when given, else email, else phone.
pub fn destination(user: &User, attribute: Option<&str>, verified_only: bool) -> Option<Delivery> {
    let candidates: &[(&'static str, &'static str)] = &[("email", "EMAIL"), ("phone_number", "SMS")];
    candidates.iter().find_map(|&(attr, medium)| {
        if attribute.is_some_and(|a| a != attr) {
            return None;
        }
        let value = user.attributes.get(attr)?;
        let verified = user.attributes.get(&format!("{attr}_verified")).is_some_and(|v| v == "true");
        (!verified_only || verified).then(|| Delivery { destination: mask(value), medium, attribute: attr })
    })
}

impl Services {
    /// HMAC-SHA256 of `code` for `purpose` of `user`, under the pool's sealing key (hex).
    pub(crate) fn code_digest(&self, pool: &Pool, user: &User, purpose: &str, code: &str) -> Result<String> {
        let keys = self.pool_keys(&*self.store.read()?, &pool.id)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&keys.sealer()?.key).map_err(Error::internal)?;
        for part in [pool.id.as_str(), "\0", user.key.as_str(), "\0", purpose, "\0", code] {
            mac.update(part.as_bytes());
        }
        Ok(hex::encode(mac.finalize().into_bytes()))
    }

    /// Put a fresh code for `purpose` on `user` (the caller stores the user) and return it.
    /// Refused with [`limit_exceeded`] once the user was sent [`MAX_SENDS`] codes this window.
    pub fn new_code(&self, pool: &Pool, user: &mut User, purpose: &str, valid_ms: i64) -> Result<String> {
        let budget = &mut user.security.code_budget;
        budget.roll(self.now_ms(), WINDOW_MS);
        if budget.sent >= MAX_SENDS {
            return Err(limit_exceeded());
        }
        budget.sent += 1;
        self.unmetered_code(pool, user, purpose, valid_ms)
    }

    /// [`Services::new_code`] outside the budget: for an administrator's call
    /// (AdminResetUserPassword), which an attacker cannot make.
    pub(crate) fn unmetered_code(&self, pool: &Pool, user: &mut User, purpose: &str, valid_ms: i64) -> Result<String> {
        let code = random::string_from(&*self.rng, b"0123456789", 6);
        let digest = self.code_digest(pool, user, purpose, &code)?;
        user.codes
            .insert(purpose.to_owned(), PendingCode { digest, expires_ms: self.now_ms() + valid_ms, attempts: 0 });
        Ok(code)
    }

    /// Check `code` for `purpose`. On success the code is consumed; on a wrong guess the
    /// attempt is counted — against the code, and against the user's window (where a guess
    /// with no code pending counts only once a code was sent in it). Either way the caller
    /// must store `user`; the result says which.
    pub fn check_code(
        &self,
        pool: &Pool,
        user: &mut User,
        purpose: &str,
        code: &str,
    ) -> Result<std::result::Result<(), Error>> {
        let expired = || Error::ExpiredCodeException("Invalid code provided, please request a code again.".into());
        let now = self.now_ms();
        let pending = user.codes.get(purpose).cloned().filter(|p| p.expires_ms >= now);
        if pending.is_none() {
            user.codes.remove(purpose);
        }
        let budget = &mut user.security.code_budget;
        budget.roll(now, WINDOW_MS);
        if budget.wrong >= MAX_WRONG {
            return Ok(Err(limit_exceeded()));
        }
        let Some(pending) = pending else {
            if budget.sent > 0 {
                budget.wrong += 1;
            }
            return Ok(Err(expired()));
        };
        if pending.attempts >= MAX_ATTEMPTS {
            return Ok(Err(limit_exceeded()));
        }
        let digest = self.code_digest(pool, user, purpose, code)?;
        if !janus_crypto::same_secret(digest.as_bytes(), pending.digest.as_bytes()) {
            if let Some(p) = user.codes.get_mut(purpose) {
                p.attempts += 1;
            }
            user.security.code_budget.wrong += 1;
            return Ok(Err(mismatch()));
        }
        user.codes.remove(purpose);
        Ok(Ok(()))
    }

    /// Send `code` to the destination `d` of `user`; `what` names it in the default text,
    /// `source` is CustomMessage's `triggerSource`.
    pub fn send_code(
        &self,
        pool: &Pool,
        user: &User,
        d: &Delivery,
        (what, source): (&str, &'static str),
        code: &str,
        caller: crate::triggers::senders::Caller<'_>,
    ) -> Result<()> {
        let default = crate::messages::code(pool, d.medium, what, code);
        let (medium, attribute) = (d.medium, d.attribute);
        let letter = Letter { source, medium, attribute, kind: "code", code, default, caller, sealed: None };
        self.deliver(pool, user, letter)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_like_cognito() {
        assert_eq!(super::mask("alice@example.com"), "a***@e***");
        assert_eq!(super::mask("+12065551234"), "+*******1234");
    }
}
