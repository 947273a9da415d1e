//! The keyring's key records and the AEAD that wraps data keys under them.
//!
//! A key holds a random 256-bit root; version `n`'s material is
//! HMAC-SHA256(root, "janus-cmk-version" ‖ n). Rotation starts a new version, and a region
//! holding a copy of a multi-region key derives every later version itself, so a rotation
//! in one region never leaves another unable to unwrap. Wrapped data key format (versioned):
//! `0x01 ‖ version (u32 BE) ‖ nonce (12) ‖ AES-256-GCM(dek) ‖ tag`, associated data
//! `"janus-dek" ‖ 0 ‖ key id ‖ 0 ‖ pool id` — a wrapped key moved to another pool fails.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use janus_types::Random;

use super::{KeyError, KeyErrorKind, KeyInfo, KeyPolicy};

const WRAP_FORMAT: u8 = 1;

/// One key of the keyring, as stored inside the sealed keyring file.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct KeyRecord {
    pub key_id: String,
    pub multi_region: bool,
    #[serde(default)]
    pub aws_owned: bool,
    pub enabled: bool,
    pub current_version: u32,
    /// The root secret, base64.
    pub root: String,
    pub policy: KeyPolicy,
    #[serde(default)]
    pub description: String,
    pub created_ms: i64,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl KeyRecord {
    /// A new record with a fresh root.
    pub fn generate(
        key_id: String,
        multi_region: bool,
        description: &str,
        policy: KeyPolicy,
        rng: &dyn Random,
        now_ms: i64,
    ) -> Self {
        let mut root = [0u8; 32];
        rng.fill(&mut root);
        Self {
            key_id,
            multi_region,
            aws_owned: false,
            enabled: true,
            current_version: 1,
            root: B64.encode(root),
            policy,
            description: description.into(),
            created_ms: now_ms,
        }
    }

    /// What may be shown about the key, with its ARN in `region`.
    pub fn info(&self, arn: String) -> KeyInfo {
        KeyInfo {
            arn,
            key_id: self.key_id.clone(),
            multi_region: self.multi_region,
            aws_owned: self.aws_owned,
            enabled: self.enabled,
            current_version: self.current_version,
            policy: self.policy.clone(),
            description: self.description.clone(),
            created_ms: self.created_ms,
        }
    }

    fn version_key(&self, version: u32) -> Result<[u8; 32], KeyError> {
        let root = B64.decode(&self.root).map_err(|_| self.integrity("its stored root is malformed"))?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&root).map_err(|_| self.integrity("bad root"))?;
        mac.update(b"janus-cmk-version");
        mac.update(&version.to_be_bytes());
        Ok(mac.finalize().into_bytes().into())
    }

    fn integrity(&self, why: &str) -> KeyError {
        KeyError::new(KeyErrorKind::Integrity, format!("key {}: {why}", self.key_id))
    }

    fn aad(&self, pool: &str) -> Vec<u8> {
        [b"janus-dek\0".as_slice(), self.key_id.as_bytes(), b"\0", pool.as_bytes()].concat()
    }

    /// Wrap `dek` for `pool` under the current version.
    pub fn wrap(&self, pool: &str, dek: &[u8; 32], rng: &dyn Random) -> Result<Vec<u8>, KeyError> {
        let key = self.version_key(self.current_version)?;
        let mut nonce = [0u8; 12];
        rng.fill(&mut nonce);
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| self.integrity("bad version key"))?;
        let ct = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: dek, aad: &self.aad(pool) })
            .map_err(|_| self.integrity("wrapping failed"))?;
        let mut out = Vec::with_capacity(17 + ct.len());
        out.push(WRAP_FORMAT);
        out.extend_from_slice(&self.current_version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Unwrap a data key of `pool`, by the version the wrapped form names.
    pub fn unwrap(&self, pool: &str, wrapped: &[u8]) -> Result<[u8; 32], KeyError> {
        if wrapped.len() < 17 + 16 || wrapped[0] != WRAP_FORMAT {
            return Err(self.integrity("the wrapped data key is malformed or of an unknown format"));
        }
        let version = u32::from_be_bytes([wrapped[1], wrapped[2], wrapped[3], wrapped[4]]);
        let key = self.version_key(version)?;
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| self.integrity("bad version key"))?;
        let plain = cipher
            .decrypt(Nonce::from_slice(&wrapped[5..17]), Payload { msg: &wrapped[17..], aad: &self.aad(pool) })
            .map_err(|_| {
                self.integrity(&format!(
                    "the data key of pool {pool} does not unwrap (version {version}): it was wrapped for another pool or key, or altered"
                ))
            })?;
        plain.try_into().map_err(|_| self.integrity("the unwrapped data key is not 256 bits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    #[test]
    fn data_keys_unwrap_by_version_and_only_for_their_pool() {
        let rng = SeededRandom::new(7);
        let mut k = KeyRecord::generate("mrk-1".into(), true, "", KeyPolicy::default(), &rng, 0);
        let dek = [9u8; 32];
        let w1 = k.wrap("p1", &dek, &rng).unwrap();
        k.current_version = 2;
        let w2 = k.wrap("p1", &dek, &rng).unwrap();
        assert_eq!(k.unwrap("p1", &w1).unwrap(), dek);
        assert_eq!(k.unwrap("p1", &w2).unwrap(), dek);
        let err = k.unwrap("p2", &w2).unwrap_err();
        assert_eq!(err.kind, KeyErrorKind::Integrity);
        assert!(err.message.contains("mrk-1"), "{err}");
    }
}
