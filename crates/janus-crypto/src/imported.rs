//! Password hashes imported with a user import job, in the encodings Cognito documents for
//! `PasswordHashingAlgorithm`, and checking a password against one at the first sign-in
//! (after which the caller replaces it with Janus's own argon2id hash and an SRP verifier):
//!
//! | algorithm | encoding | limits |
//! |---|---|---|
//! | BCRYPT | `$2a$`/`$2b$`/`$2x$`/`$2y$` `cost$` 22-char salt and 31-char hash | cost ≤ 12 |
//! | SCRYPT | `N$r$p$hexSalt$hexHash` | N ≤ 65536 (a power of two), r ≤ 8, p ≤ 1 |
//! | ARGON2ID | PHC `$argon2id$v=19$m=M,t=T,p=P$salt$hash` | m ≤ 19456 KiB, t ≤ 2, p ≤ 1 |
//! | PBKDF2_SHA256 | `$pbkdf2-sha256$iterations$salt$hash` (unpadded base64) | ≤ 600000 iterations |
//!
//! A stored imported hash is `$janus-import$<ALGORITHM>$<the hash as imported>`, so it can
//! never be mistaken for a native one.

use argon2::password_hash::PasswordHash;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::Hmac;
use sha2::Sha256;

use crate::password::PasswordHasher;
use janus_types::Error;

const PREFIX: &str = "$janus-import$";

/// The algorithms a user import job may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `BCRYPT`.
    Bcrypt,
    /// `SCRYPT`.
    Scrypt,
    /// `ARGON2ID`.
    Argon2id,
    /// `PBKDF2_SHA256`.
    Pbkdf2Sha256,
}

impl Algorithm {
    /// Parse `PasswordHashingAlgorithm`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "BCRYPT" => Algorithm::Bcrypt,
            "SCRYPT" => Algorithm::Scrypt,
            "ARGON2ID" => Algorithm::Argon2id,
            "PBKDF2_SHA256" => Algorithm::Pbkdf2Sha256,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Bcrypt => "BCRYPT",
            Algorithm::Scrypt => "SCRYPT",
            Algorithm::Argon2id => "ARGON2ID",
            Algorithm::Pbkdf2Sha256 => "PBKDF2_SHA256",
        }
    }
}

/// Why an imported hash was refused (the row's error; never contains the hash).
pub type Refusal = &'static str;

struct Scrypt {
    log_n: u8,
    r: u32,
    p: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn scrypt_parts(text: &str) -> Result<Scrypt, Refusal> {
    let bad = "The password hash is not an scrypt hash (N$r$p$hexSalt$hexHash).";
    let parts: Vec<&str> = text.split('$').collect();
    let [n, r, p, salt, hash] = parts[..] else { return Err(bad) };
    let (n, r, p): (u64, u32, u32) =
        (n.parse().map_err(|_| bad)?, r.parse().map_err(|_| bad)?, p.parse().map_err(|_| bad)?);
    if !n.is_power_of_two() || !(2..=65_536).contains(&n) || r == 0 || r > 8 || p != 1 {
        return Err("The scrypt parameters exceed N=65536, r=8, p=1.");
    }
    let (salt, hash) = (hex::decode(salt).map_err(|_| bad)?, hex::decode(hash).map_err(|_| bad)?);
    if salt.is_empty() || hash.len() < 16 || hash.len() > 64 {
        return Err(bad);
    }
    Ok(Scrypt { log_n: n.trailing_zeros() as u8, r, p, salt, hash })
}

struct Pbkdf2 {
    rounds: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn b64(text: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(text).or_else(|_| STANDARD.decode(text)).ok()
}

fn pbkdf2_parts(text: &str) -> Result<Pbkdf2, Refusal> {
    let bad = "The password hash is not a PBKDF2-SHA256 hash ($pbkdf2-sha256$iterations$salt$hash).";
    let rest = text.strip_prefix("$pbkdf2-sha256$").ok_or(bad)?;
    let parts: Vec<&str> = rest.split('$').collect();
    let [rounds, salt, hash] = parts[..] else { return Err(bad) };
    let rounds: u32 = rounds.trim_start_matches("i=").parse().map_err(|_| bad)?;
    if rounds == 0 || rounds > 600_000 {
        return Err("The PBKDF2 iteration count exceeds 600000.");
    }
    let (salt, hash) = (b64(salt).ok_or(bad)?, b64(hash).ok_or(bad)?);
    if salt.is_empty() || hash.len() < 16 || hash.len() > 64 {
        return Err(bad);
    }
    Ok(Pbkdf2 { rounds, salt, hash })
}

fn check_bcrypt(text: &str) -> Result<(), Refusal> {
    let bad = "The password hash is not a bcrypt hash ($2b$cost$salt+hash).";
    let parts: Vec<&str> = text.split('$').collect();
    let ["", version, cost, body] = parts[..] else { return Err(bad) };
    if !matches!(version, "2a" | "2b" | "2x" | "2y") || body.len() != 53 {
        return Err(bad);
    }
    let cost: u32 = cost.parse().map_err(|_| bad)?;
    if !(4..=12).contains(&cost) {
        return Err("The bcrypt cost factor exceeds 12.");
    }
    text.parse::<bcrypt::HashParts>().map(drop).map_err(|_| bad)
}

fn check_argon2id(text: &str) -> Result<(), Refusal> {
    let bad = "The password hash is not an Argon2id PHC string ($argon2id$v=19$m=..,t=..,p=..$salt$hash).";
    let parsed = PasswordHash::new(text).map_err(|_| bad)?;
    if parsed.algorithm.as_str() != "argon2id" || parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(bad);
    }
    let params = argon2::Params::try_from(&parsed).map_err(|_| bad)?;
    if params.m_cost() > 19_456 || params.t_cost() > 2 || params.p_cost() > 1 {
        return Err("The Argon2id parameters exceed m=19456, t=2, p=1.");
    }
    Ok(())
}

/// Check an imported hash of `algorithm` and return its stored form.
pub fn import(algorithm: Algorithm, text: &str) -> Result<String, Refusal> {
    match algorithm {
        Algorithm::Bcrypt => check_bcrypt(text)?,
        Algorithm::Scrypt => scrypt_parts(text).map(drop)?,
        Algorithm::Argon2id => check_argon2id(text)?,
        Algorithm::Pbkdf2Sha256 => pbkdf2_parts(text).map(drop)?,
    }
    Ok(format!("{PREFIX}{}${text}", algorithm.as_str()))
}

/// True when `stored` is an imported hash (to be replaced after the first sign-in).
pub fn is_imported(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

fn verify_imported(hasher: &PasswordHasher, password: &str, stored: &str) -> Result<bool, Error> {
    let rest = &stored[PREFIX.len()..];
    let (name, text) = rest.split_once('$').ok_or_else(corrupt)?;
    Ok(match Algorithm::parse(name).ok_or_else(corrupt)? {
        Algorithm::Bcrypt => bcrypt::verify(password, text).unwrap_or(false),
        Algorithm::Argon2id => hasher.verify(password, text)?,
        Algorithm::Scrypt => {
            let s = scrypt_parts(text).map_err(|_| corrupt())?;
            let params = scrypt::Params::new(s.log_n, s.r, s.p, s.hash.len()).map_err(|_| corrupt())?;
            let mut out = vec![0u8; s.hash.len()];
            scrypt::scrypt(password.as_bytes(), &s.salt, &params, &mut out).map_err(|_| corrupt())?;
            crate::same_secret(&out, &s.hash)
        }
        Algorithm::Pbkdf2Sha256 => {
            let p = pbkdf2_parts(text).map_err(|_| corrupt())?;
            let mut out = vec![0u8; p.hash.len()];
            pbkdf2::pbkdf2::<Hmac<Sha256>>(password.as_bytes(), &p.salt, p.rounds, &mut out).map_err(|_| corrupt())?;
            crate::same_secret(&out, &p.hash)
        }
    })
}

fn corrupt() -> Error {
    Error::internal(std::io::Error::other("a stored imported password hash does not parse"))
}

/// True when `password` matches `stored`: Janus's argon2id PHC string, or an imported hash.
pub fn verify(hasher: &PasswordHasher, password: &str, stored: &str) -> Result<bool, Error> {
    if is_imported(stored) {
        verify_imported(hasher, password, stored)
    } else {
        hasher.verify(password, stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::password::HashParams;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(HashParams { m_kib: 256, t: 1, p: 1 })
    }

    fn round_trip(algorithm: Algorithm, hash: &str, password: &str) {
        let stored = import(algorithm, hash).unwrap();
        assert!(is_imported(&stored));
        assert!(verify(&hasher(), password, &stored).unwrap(), "{algorithm:?}");
        assert!(!verify(&hasher(), "wrong password", &stored).unwrap(), "{algorithm:?}");
    }

    // The examples of Cognito's developer guide are hashes of unknown passwords; these are
    // made with the reference implementations (Python's bcrypt, hashlib.scrypt,
    // argon2-cffi, hashlib.pbkdf2_hmac), as conformance/test_import.py makes them.
    #[test]
    fn each_algorithm_verifies_its_reference_hash() {
        let bcrypt =
            bcrypt::hash_with_salt("Passw0rd!", 4, [7u8; 16]).unwrap().format_for_version(bcrypt::Version::TwoB);
        round_trip(Algorithm::Bcrypt, &bcrypt, "Passw0rd!");
        let salt = "00112233445566778899aabbccddeeff";
        let hash = {
            let params = scrypt::Params::new(10, 8, 1, 32).unwrap();
            let mut out = [0u8; 32];
            scrypt::scrypt(b"Passw0rd!", &hex::decode(salt).unwrap(), &params, &mut out).unwrap();
            hex::encode(out)
        };
        round_trip(Algorithm::Scrypt, &format!("1024$8$1${salt}${hash}"), "Passw0rd!");
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2::<Hmac<Sha256>>(b"Passw0rd!", b"0123456789abcdef", 1000, &mut out).unwrap();
        let pbkdf2 = format!(
            "$pbkdf2-sha256$1000${}${}",
            STANDARD_NO_PAD.encode(b"0123456789abcdef"),
            STANDARD_NO_PAD.encode(out)
        );
        round_trip(Algorithm::Pbkdf2Sha256, &pbkdf2, "Passw0rd!");
        let argon = hasher().hash("Passw0rd!", &crate::SeededRandom::new(1)).unwrap();
        round_trip(Algorithm::Argon2id, &argon, "Passw0rd!");
    }

    #[test]
    fn malformed_and_too_costly_hashes_are_refused() {
        assert!(import(Algorithm::Bcrypt, "$2b$13$EGdrhbKUv8Oc9vGiXX0HQO1/Ri8LsB3Ax6zAQH7EYLpSTvPQ5/6Ga").is_err());
        assert!(import(Algorithm::Bcrypt, "not a hash").is_err());
        assert!(import(Algorithm::Scrypt, "131072$8$1$00$00112233445566778899aabbccddeeff").is_err());
        assert!(import(Algorithm::Scrypt, "1000$8$1$00$00112233445566778899aabbccddeeff").is_err());
        assert!(import(Algorithm::Pbkdf2Sha256, "$pbkdf2-sha256$600001$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA").is_err());
        assert!(
            import(Algorithm::Argon2id, "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA").is_err()
        );
        assert!(import(Algorithm::Argon2id, "$2b$04$EGdrhbKUv8Oc9vGiXX0HQO1/Ri8LsB3Ax6zAQH7EYLpSTvPQ5/6Ga").is_err());
    }
}
