//! Janus's cryptography: password hashing, Cognito's SRP, RS256 JWTs, sealed (AEAD) values,
//! TOTP (RFC 6238), and the random values Janus hands out (ids, secrets, temporary passwords).
//! Key providers and envelope encryption join this crate as their issues land.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod jwt;
pub mod password;
pub mod random;
pub mod seal;
pub mod srp;
pub mod totp;

pub use password::{HashParams, PasswordHasher};
pub use random::{OsRandom, SeededRandom};
