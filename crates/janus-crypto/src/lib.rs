//! Janus's cryptography: password hashing, Cognito's SRP, RS256 JWTs, sealed (AEAD) values,
//! TOTP (RFC 6238), and the random values Janus hands out (ids, secrets, temporary passwords).
//! Key providers (`keys`) and envelope encryption of stored fields (`envelope`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod certificate;
pub mod envelope;
pub mod esdk;
pub mod imported;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod random;
pub mod seal;
pub mod srp;
pub mod totp;

pub use password::{HashParams, PasswordHasher};

/// True when `a` and `b` are the same secret, compared in constant time for equal lengths
/// (a length difference answers at once: lengths here are not secret).
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
pub use random::{OsRandom, SeededRandom};
