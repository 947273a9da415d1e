//! Sources of randomness behind `janus_types::Random`, and the random values Janus mints:
//! pool-id suffixes, client ids, client secrets, temporary passwords, UUIDs.

use base64::Engine;
use janus_types::Random;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::sync::Mutex;

/// The operating system's randomness (rand's thread-local CSPRNG, seeded from the OS).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::rng().fill_bytes(buf);
    }
}

/// Reproducible randomness for tests and simulations.
#[derive(Debug)]
pub struct SeededRandom(Mutex<StdRng>);

impl SeededRandom {
    /// A generator that always yields the same bytes for the same seed.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        match self.0.lock() {
            Ok(mut g) => g.fill_bytes(buf),
            Err(poisoned) => poisoned.into_inner().fill_bytes(buf),
        }
    }
}

/// Adapts a [`Random`] to the `rand_core` 0.6 traits the RSA and AEAD crates take.
pub struct RngAdapter<'a>(pub &'a dyn Random);

impl rand_core::RngCore for RngAdapter<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for RngAdapter<'_> {}

/// `n` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
pub fn string_from(rng: &dyn Random, alphabet: &[u8], n: usize) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        rng.fill(&mut buf);
        for &b in &buf {
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A pool-id suffix: 9 letters and digits, as Cognito's.
pub fn pool_suffix(rng: &dyn Random) -> String {
    string_from(rng, ALNUM, 9)
}

/// A client id: 26 lowercase letters and digits, as Cognito's.
pub fn client_id(rng: &dyn Random) -> String {
    string_from(rng, LOWER_ALNUM, 26)
}

/// A client secret: 51 chars of base32-ish lowercase alphanumerics, as Cognito's.
pub fn client_secret(rng: &dyn Random) -> String {
    string_from(rng, LOWER_ALNUM, 51)
}

/// An access key id: `AKIA` and 16 upper-case letters and digits.
pub fn access_key_id(rng: &dyn Random) -> String {
    format!("AKIA{}", string_from(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}

/// A secret access key: 40 base64 characters.
pub fn secret_access_key(rng: &dyn Random) -> String {
    let mut b = [0u8; 30];
    rng.fill(&mut b);
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A random version-4 UUID in its hyphenated lowercase form.
pub fn uuid_v4(rng: &dyn Random) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// A version-7 UUID: `ms` (Unix milliseconds) in the first 48 bits, then random bits, so the
/// id also says exactly when it was minted.
pub fn uuid_v7(rng: &dyn Random, ms: i64) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b[..6].copy_from_slice(&(ms as u64).to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The milliseconds a version-7 UUID carries (`None` for other versions).
pub fn uuid_v7_ms(uuid: &str) -> Option<i64> {
    let h: String = uuid.chars().filter(|c| *c != '-').collect();
    if h.len() != 32 || h.as_bytes()[12] != b'7' {
        return None;
    }
    i64::from_str_radix(&h[..12], 16).ok()
}

/// A temporary password satisfying any Cognito password policy with minimum length
/// `min_len`: upper, lower, digit and symbol, at least 16 chars.
pub fn temporary_password(rng: &dyn Random, min_len: usize) -> String {
    let mut p = String::new();
    p.push_str(&string_from(rng, b"ABCDEFGHJKLMNPQRSTUVWXYZ", 3));
    p.push_str(&string_from(rng, b"abcdefghijkmnopqrstuvwxyz", 6 + min_len.saturating_sub(16)));
    p.push_str(&string_from(rng, b"23456789", 4));
    p.push_str(&string_from(rng, b"!#%^*-_=+", 3));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_values_have_cognito_shapes() {
        let r = SeededRandom::new(1);
        assert_eq!(client_id(&r).len(), 26);
        assert_eq!(pool_suffix(&r).len(), 9);
        let u = uuid_v4(&r);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(secret_access_key(&r).len(), 40);
        assert_eq!(access_key_id(&r).len(), 20);
        let v7 = uuid_v7(&r, 1_800_000_000_123);
        assert_eq!(uuid_v7_ms(&v7), Some(1_800_000_000_123));
        assert_eq!(uuid_v7_ms(&uuid_v4(&r)), None);
    }

    #[test]
    fn same_seed_same_values() {
        assert_eq!(client_id(&SeededRandom::new(3)), client_id(&SeededRandom::new(3)));
    }
}
