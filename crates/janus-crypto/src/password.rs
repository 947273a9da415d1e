//! Password hashing with argon2id into PHC strings, so parameters can be raised later and
//! old hashes recognised and upgraded. Verification compares in constant time (argon2's own).
//! At most one hash per CPU runs at a time (each holds 19 MiB by default): a flood of
//! sign-ins queues here instead of exhausting memory or starving other requests.

use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use janus_types::{Error, Random};
use std::sync::{Arc, Condvar, Mutex};

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
    permits: Arc<(Mutex<usize>, Condvar)>,
}

struct Permit<'a>(&'a (Mutex<usize>, Condvar));

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self.0 .0.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.0 .1.notify_one();
    }
}

impl PasswordHasher {
    /// A hasher using `params`, running at most one hash per available CPU at once.
    pub fn new(params: HashParams) -> Self {
        let cpus = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
        Self { params, permits: Arc::new((Mutex::new(cpus), Condvar::new())) }
    }

    fn permit(&self) -> Permit<'_> {
        let (lock, cv) = &*self.permits;
        let mut free = lock.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = cv.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        Permit(&self.permits)
    }

    /// True when `phc` was hashed with other parameters than this hasher's (upgrade it).
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let p = self.params;
        !phc.starts_with(&format!("$argon2id$v=19$m={},t={},p={}$", p.m_kib, p.t, p.p))
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
        let _permit = self.permit();
        let hash = self
            .argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::internal(anyhow_msg(e)))?;
        Ok(hash.to_string())
    }

    /// True when `password` matches the PHC string `phc`.
    pub fn verify(&self, password: &str, phc: &str) -> Result<bool, Error> {
        let parsed = PasswordHash::new(phc).map_err(|e| Error::internal(anyhow_msg(e)))?;
        let _permit = self.permit();
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
        assert!(!h.needs_rehash(&phc));
        assert!(PasswordHasher::new(HashParams::default()).needs_rehash(&phc));
    }
}
