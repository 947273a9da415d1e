//! Envelope-encrypted fields: a stored secret (password hash, SRP verifier, signing key,
//! client secret, sensitive attribute) sealed with AES-256-GCM under its pool's data key
//! (DEK). Format (versioned, a string so it fits the JSON entity it replaces):
//! `jenc1:<DEK id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The associated data is the caller's
//! context — pool id, entity id and field name — so a ciphertext moved to another row,
//! field or pool fails to decrypt instead of yielding another user's value.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;

use janus_types::Random;

use crate::keys::{KeyError, KeyErrorKind};

const PREFIX: &str = "jenc1:";

/// A pool's unwrapped data key, held in memory only.
#[derive(Clone)]
pub struct Dek {
    /// The id ciphertexts name (not secret).
    pub id: String,
    key: [u8; 32],
}

impl std::fmt::Debug for Dek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dek").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Dek {
    /// A data key `key` known as `id`.
    pub fn new(id: String, key: [u8; 32]) -> Self {
        Self { id, key }
    }

    /// A keyed digest of `value` under this DEK (for blind indexes of sensitive values).
    pub fn digest(&self, label: &str, value: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(label.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        B64.encode(&mac.finalize().into_bytes()[..20])
    }
}

/// True when `s` is an encrypted field (otherwise it is a value stored before encryption).
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with(PREFIX)
}

/// The DEK id an encrypted field names.
pub fn dek_id(s: &str) -> Option<&str> {
    s.strip_prefix(PREFIX)?.split(':').next()
}

/// Encrypt `plaintext` under `dek` for `context`.
pub fn encrypt(dek: &Dek, context: &str, plaintext: &[u8], rng: &dyn Random) -> String {
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let cipher = Aes256Gcm::new_from_slice(&dek.key).expect("a 256-bit key");
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
        .expect("AES-GCM encryption of a short field cannot fail");
    let mut body = Vec::with_capacity(12 + ct.len());
    body.extend_from_slice(&nonce);
    body.extend_from_slice(&ct);
    format!("{PREFIX}{}:{}", dek.id, B64.encode(body))
}

/// Decrypt a field sealed for `context`.
pub fn decrypt(dek: &Dek, context: &str, field: &str) -> Result<Vec<u8>, KeyError> {
    let fail = |why: &str| KeyError::new(KeyErrorKind::Integrity, format!("encrypted field {context} {why}"));
    let rest = field.strip_prefix(PREFIX).ok_or_else(|| fail("is not in the jenc1 format"))?;
    let (id, body) = rest.split_once(':').ok_or_else(|| fail("is malformed"))?;
    if id != dek.id {
        return Err(fail(&format!("names data key {id}, not the pool's data key {}", dek.id)));
    }
    let body = B64.decode(body).map_err(|_| fail("is malformed"))?;
    if body.len() < 12 + 16 {
        return Err(fail("is truncated"));
    }
    let cipher = Aes256Gcm::new_from_slice(&dek.key).map_err(|_| fail("has a bad key"))?;
    cipher.decrypt(Nonce::from_slice(&body[..12]), Payload { msg: &body[12..], aad: context.as_bytes() }).map_err(
        |_| fail("does not authenticate: it was moved from another row or field, or altered (refusing to use it)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    #[test]
    fn a_field_opens_only_in_its_own_context() {
        let rng = SeededRandom::new(1);
        let dek = Dek::new("abcd1234".into(), [5u8; 32]);
        let c = encrypt(&dek, "p1/user:alice/phc", b"secret-hash", &rng);
        assert!(is_encrypted(&c) && !c.contains("secret"));
        assert_eq!(dek_id(&c), Some("abcd1234"));
        assert_eq!(decrypt(&dek, "p1/user:alice/phc", &c).unwrap(), b"secret-hash");
        let err = decrypt(&dek, "p1/user:bob/phc", &c).unwrap_err();
        assert_eq!(err.kind, KeyErrorKind::Integrity);
        assert!(err.message.contains("user:bob"), "{err}");
    }
}
