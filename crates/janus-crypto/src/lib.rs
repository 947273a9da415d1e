//! Janus's cryptography: password hashing and the random values Janus hands out (ids,
//! secrets, temporary passwords). Key providers, envelope encryption, SRP, TOTP and JWT
//! signing join this crate as their issues land.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod password;
pub mod random;

pub use password::{PasswordHasher, HashParams};
pub use random::{OsRandom, SeededRandom};
