//! Password hashing with argon2id into PHC strings, so parameters can be raised later and
//! old hashes recognised and upgraded. Verification compares in constant time (argon2's own).

use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use janus_types::{Error, Random};

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
}

impl Default for HashParams {
    /// OWASP's recommendation: m=19 MiB, t=2, p=1.
    fn default() -> Self {
        Self { m_kib: 19 * 1024, t: 2, p: 1 }
    }
}

/// Hashes and verifies passwords with fixed parameters.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: HashParams,
}

impl PasswordHasher {
    /// A hasher using `params`.
    pub fn new(params: HashParams) -> Self {
        Self { params }
    }

    fn argon2(&self) -> Result<Argon2<'static>, Error> {
        let p = Params::new(self.params.m_kib, self.params.t, self.params.p, None)
            .map_err(|e| Error::internal(anyhow_msg(e)))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
    }

    /// Hash `password` with a fresh 16-byte salt into a PHC string.
    pub fn hash(&self, password: &str, rng: &dyn Random) -> Result<String, Error> {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        let salt = SaltString::encode_b64(&salt).map_err(|e| Error::internal(anyhow_msg(e)))?;
        use argon2::password_hash::PasswordHasher as _;
        let hash = self
            .argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::internal(anyhow_msg(e)))?;
        Ok(hash.to_string())
    }

    /// True when `password` matches the PHC string `phc`.
    pub fn verify(&self, password: &str, phc: &str) -> Result<bool, Error> {
        let parsed = PasswordHash::new(phc).map_err(|e| Error::internal(anyhow_msg(e)))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    }
}

fn anyhow_msg(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    #[test]
    fn hashes_verify_and_reject() {
        let h = PasswordHasher::new(HashParams { m_kib: 256, t: 1, p: 1 });
        let rng = SeededRandom::new(7);
        let phc = h.hash("Correct-Horse-1", &rng).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=256,t=1,p=1$"));
        assert!(h.verify("Correct-Horse-1", &phc).unwrap());
        assert!(!h.verify("correct-horse-1", &phc).unwrap());
    }
}
