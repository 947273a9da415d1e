//! Sealed values: AES-256-GCM with a random 96-bit nonce, for the self-contained values Janus
//! hands to clients and must later trust — refresh tokens, challenge sessions, SRP secret
//! blocks. Format (versioned): `0x01 ‖ key id (8 bytes) ‖ nonce (12) ‖ ciphertext+tag`; the
//! `purpose` is bound as associated data so one kind of value cannot pass for another.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use janus_types::{Error, Random};

const VERSION: u8 = 1;

/// A 256-bit sealing key with its id.
#[derive(Clone)]
pub struct SealKey {
    /// 8-byte key id, carried in every sealed value.
    pub id: [u8; 8],
    /// The key.
    pub key: [u8; 32],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealKey").field("id", &hex::encode(self.id)).finish_non_exhaustive()
    }
}

/// Seal `plaintext` for `purpose`.
pub fn seal(key: &SealKey, purpose: &str, plaintext: &[u8], rng: &dyn Random) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let cipher = Aes256Gcm::new_from_slice(&key.key).map_err(Error::internal)?;
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: purpose.as_bytes() })
        .map_err(|_| Error::internal(std::io::Error::other("seal failed")))?;
    let mut out = Vec::with_capacity(21 + ct.len());
    out.push(VERSION);
    out.extend_from_slice(&key.id);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The key id a sealed value names, if it is well formed.
pub fn key_id(sealed: &[u8]) -> Option<[u8; 8]> {
    (sealed.len() > 21 && sealed[0] == VERSION).then(|| sealed[1..9].try_into().ok()).flatten()
}

/// Open a value sealed for `purpose`; `None` when it was forged, altered or sealed otherwise.
pub fn open(key: &SealKey, purpose: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    if key_id(sealed)? != key.id {
        return None;
    }
    let cipher = Aes256Gcm::new_from_slice(&key.key).ok()?;
    cipher.decrypt(Nonce::from_slice(&sealed[9..21]), Payload { msg: &sealed[21..], aad: purpose.as_bytes() }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    #[test]
    fn sealed_values_open_only_for_their_purpose() {
        let rng = SeededRandom::new(1);
        let key = SealKey { id: *b"key-0001", key: [3u8; 32] };
        let s = seal(&key, "refresh", b"hello", &rng).unwrap();
        assert_eq!(open(&key, "refresh", &s).as_deref(), Some(&b"hello"[..]));
        assert!(open(&key, "session", &s).is_none());
        let mut tampered = s.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(open(&key, "refresh", &tampered).is_none());
        let other = SealKey { id: *b"key-0001", key: [4u8; 32] };
        assert!(open(&other, "refresh", &s).is_none());
    }
}
