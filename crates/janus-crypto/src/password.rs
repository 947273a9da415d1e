//! Password hashing with argon2id into PHC strings, so parameters can be raised later and
//! old hashes recognised and upgraded. Verification compares in constant time (argon2's own).
//! At most one hash per CPU runs at a time (each holds 19 MiB by default): a flood of
//! sign-ins queues here instead of exhausting memory or starving other requests.

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
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

/// Hashes and verifies passwords with fixed parameters. Each hash borrows one of a fixed set
/// of working memories (one per CPU), so at most that many run at once and their 19 MiB
/// buffers are reused instead of allocated and faulted in on every call.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    params: HashParams,
    memories: Arc<(Mutex<Vec<Vec<Block>>>, Condvar)>,
}

/// A borrowed working memory, returned on drop.
struct Memory<'a> {
    pool: &'a (Mutex<Vec<Vec<Block>>>, Condvar),
    blocks: Vec<Block>,
}

impl Drop for Memory<'_> {
    fn drop(&mut self) {
        let mut free = self.pool.0.lock().unwrap_or_else(|p| p.into_inner());
        free.push(std::mem::take(&mut self.blocks));
        self.pool.1.notify_one();
    }
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::internal(std::io::Error::other(e.to_string()))
}

impl PasswordHasher {
    /// A hasher using `params`, running at most one hash per available CPU at once.
    pub fn new(params: HashParams) -> Self {
        let cpus = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
        Self { params, memories: Arc::new((Mutex::new(vec![Vec::new(); cpus]), Condvar::new())) }
    }

    fn memory(&self, blocks: usize) -> Memory<'_> {
        let (lock, cv) = &*self.memories;
        let mut free = lock.lock().unwrap_or_else(|p| p.into_inner());
        while free.is_empty() {
            free = cv.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        let mut mem = free.pop().unwrap_or_default();
        drop(free);
        mem.resize(blocks, Block::default());
        Memory { pool: &self.memories, blocks: mem }
    }

    /// True when `phc` was hashed with other parameters than this hasher's (upgrade it).
    pub fn needs_rehash(&self, phc: &str) -> bool {
        let p = self.params;
        !phc.starts_with(&format!("$argon2id$v=19$m={},t={},p={}$", p.m_kib, p.t, p.p))
    }

    fn compute(&self, params: Params, password: &str, salt: &[u8], out: &mut [u8]) -> Result<(), Error> {
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut mem = self.memory(params.block_count());
        argon.hash_password_into_with_memory(password.as_bytes(), salt, out, &mut mem.blocks[..]).map_err(err)
    }

    /// Hash `password` with a fresh 16-byte salt into a PHC string.
    pub fn hash(&self, password: &str, rng: &dyn Random) -> Result<String, Error> {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        let p = self.params;
        let params = Params::new(p.m_kib, p.t, p.p, Some(32)).map_err(err)?;
        let mut out = [0u8; 32];
        self.compute(params, password, &salt, &mut out)?;
        let salt = SaltString::encode_b64(&salt).map_err(err)?;
        Ok(format!("$argon2id$v=19$m={},t={},p={}${}${}", p.m_kib, p.t, p.p, salt.as_str(), B64.encode(out)))
    }

    /// True when `password` matches the PHC string `phc` (compared in constant time).
    pub fn verify(&self, password: &str, phc: &str) -> Result<bool, Error> {
        let parsed = PasswordHash::new(phc).map_err(err)?;
        let expected = parsed.hash.ok_or_else(|| err("PHC string without a hash"))?;
        let params = Params::try_from(&parsed).map_err(err)?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt.ok_or_else(|| err("PHC string without a salt"))?.decode_b64(&mut salt).map_err(err)?;
        let mut out = vec![0u8; expected.len()];
        self.compute(params, password, salt, &mut out)?;
        Ok(crate::same_secret(&out, expected.as_bytes()))
    }
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
        // Standard PHC: another implementation verifies it.
        use argon2::password_hash::PasswordVerifier;
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(Argon2::default().verify_password(b"Correct-Horse-1", &parsed).is_ok());
        assert!(h.verify("Correct-Horse-1", &phc).unwrap());
        assert!(!h.verify("correct-horse-1", &phc).unwrap());
        assert!(!h.needs_rehash(&phc));
        assert!(PasswordHasher::new(HashParams::default()).needs_rehash(&phc));
    }
}
