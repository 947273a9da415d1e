//! TOTP (RFC 6238) as Cognito's software tokens use it: HMAC-SHA1, six digits, 30-second
//! steps, and a tolerance of one step either side for clock drift. A code is accepted once:
//! the caller keeps the last step it accepted per user and passes it in, and a code of that
//! step or an earlier one is refused as a replay (RFC 6238 §5.2). Secrets are 32 random bytes,
//! handed to users in base32 (RFC 4648, no padding) as Cognito's `SecretCode` is.

use aws_lc_rs::hmac;

use janus_types::Random;

/// Length of a step, in ms.
pub const STEP_MS: i64 = 30_000;
/// Bytes of a new secret.
pub const SECRET_LEN: usize = 32;
const DIGITS: u32 = 6;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// What checking a code found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The code is right for this step, which is later than any accepted before.
    Accepted(i64),
    /// The code is right, but for a step at or before the last one accepted: a replay.
    Replayed,
    /// The code is wrong (or outside the tolerance window).
    Mismatch,
}

/// A fresh secret.
pub fn new_secret(rng: &dyn Random) -> [u8; SECRET_LEN] {
    let mut s = [0u8; SECRET_LEN];
    rng.fill(&mut s);
    s
}

/// The step `now_ms` falls in.
pub fn step_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(STEP_MS)
}

/// HOTP (RFC 4226) of `counter` with `digits` digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([mac[offset] & 0x7f, mac[offset + 1], mac[offset + 2], mac[offset + 3]]);
    binary % 10u32.pow(digits)
}

/// The six-digit code of `step`, zero-padded.
pub fn code_at(secret: &[u8], step: i64) -> String {
    format!("{:06}", hotp(secret, step.max(0) as u64, DIGITS))
}

/// Check `code` at `now_ms`, one step of tolerance either side; `last_used` is the last step
/// accepted for this secret (0 when none).
pub fn check(secret: &[u8], code: &str, now_ms: i64, last_used: i64) -> Check {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Check::Mismatch;
    }
    let now = step_of(now_ms);
    let mut found = None;
    // Compare every candidate (no early exit), in constant time per comparison.
    for step in [now - 1, now, now + 1] {
        let expected = code_at(secret, step);
        if crate::same_secret(expected.as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    match found {
        Some(step) if step <= last_used => {
            // A later step in the window may still match (codes can repeat); prefer it.
            [now, now + 1]
                .into_iter()
                .find(|s| *s > last_used && code_at(secret, *s) == code)
                .map_or(Check::Replayed, Check::Accepted)
        }
        Some(step) => Check::Accepted(step),
        None => Check::Mismatch,
    }
}

/// Base32 (RFC 4648) without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decode base32 (case-insensitive, padding and spaces ignored); `None` on a bad character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_test_vectors() {
        // RFC 6238 Appendix B, SHA1 column (8 digits), T0 = 0, X = 30 s.
        for (time_s, expected) in [
            (59i64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(RFC_SECRET, (time_s / 30) as u64, 8), expected, "T = {time_s}");
            // Six digits are the last six of the eight.
            assert_eq!(code_at(RFC_SECRET, time_s / 30), format!("{:06}", expected % 1_000_000));
        }
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, want) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), want);
        }
    }

    #[test]
    fn one_step_of_tolerance_either_side() {
        let now = 1_800_000_000_000i64;
        let step = step_of(now);
        assert_eq!(check(RFC_SECRET, &code_at(RFC_SECRET, step), now, 0), Check::Accepted(step));
        assert_eq!(check(RFC_SECRET, &code_at(RFC_SECRET, step - 1), now, 0), Check::Accepted(step - 1));
        assert_eq!(check(RFC_SECRET, &code_at(RFC_SECRET, step + 1), now, 0), Check::Accepted(step + 1));
        assert_eq!(check(RFC_SECRET, &code_at(RFC_SECRET, step - 2), now, 0), Check::Mismatch);
        assert_eq!(check(RFC_SECRET, &code_at(RFC_SECRET, step + 2), now, 0), Check::Mismatch);
        assert_eq!(check(RFC_SECRET, "12345", now, 0), Check::Mismatch);
        assert_eq!(check(RFC_SECRET, "abcdef", now, 0), Check::Mismatch);
    }

    #[test]
    fn a_code_is_accepted_once_and_earlier_steps_never_again() {
        let now = 1_800_000_000_000i64;
        let step = step_of(now);
        let code = code_at(RFC_SECRET, step);
        let Check::Accepted(used) = check(RFC_SECRET, &code, now, 0) else { panic!("first use refused") };
        assert_eq!(check(RFC_SECRET, &code, now, used), Check::Replayed);
        // The previous step's code is still inside the window, but older than what was used.
        assert_eq!(check(RFC_SECRET, &code_at(RFC_SECRET, step - 1), now, used), Check::Replayed);
        // The next step's code is fresh.
        assert_eq!(check(RFC_SECRET, &code_at(RFC_SECRET, step + 1), now, used), Check::Accepted(step + 1));
        // Thirty seconds later the same code is a step behind: still a replay, not a mismatch.
        assert_eq!(check(RFC_SECRET, &code, now + STEP_MS, used), Check::Replayed);
    }

    #[test]
    fn base32_round_trips_and_matches_rfc4648() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"fooba"), "MZXW6YTB");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        assert!(base32_decode("MZXW1").is_none());
        let secret = [0xA5u8; SECRET_LEN];
        let text = base32_encode(&secret);
        assert_eq!(text.len(), 52);
        assert_eq!(base32_decode(&text).unwrap(), secret);
    }
}
