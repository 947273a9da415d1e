//! Sealed bundles that carry a multi-region key to another region's keyring. The target
//! region has a transport key pair (RSA-3072, made on first use, kept in its sealed keyring);
//! the source encrypts a fresh AES-256 key to the target's public key with RSA-OAEP-SHA256
//! (as AWS KMS key import does) and the key record under it with AES-256-GCM. Only the target's
//! keyring can open a bundle; nothing in it is key material in the clear. Format (versioned
//! JSON): `{"format":"janus-key-bundle","v":1,"key_id","source_region","target_region",
//! "encrypted_key","nonce","ciphertext"}`, with format, key id and target region as
//! associated data, so a bundle cannot be retargeted.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use serde::{Deserialize, Serialize};

use janus_types::Random;

use super::{KeyError, KeyErrorKind};
use crate::random::RngAdapter;

const FORMAT: &str = "janus-key-bundle";
const VERSION: u32 = 1;
const BITS: usize = 3072;

/// A sealed bundle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundle {
    /// `janus-key-bundle`.
    pub format: String,
    /// Format version.
    pub v: u32,
    /// The key carried.
    pub key_id: String,
    /// Where it was sealed.
    pub source_region: String,
    /// The only region that can open it.
    pub target_region: String,
    encrypted_key: String,
    nonce: String,
    ciphertext: String,
}

fn invalid(msg: impl Into<String>) -> KeyError {
    KeyError::new(KeyErrorKind::Invalid, msg)
}

/// A new transport private key (PKCS#8 DER).
pub fn generate(rng: &dyn Random) -> Result<Vec<u8>, KeyError> {
    let key = RsaPrivateKey::new(&mut RngAdapter(rng), BITS).map_err(|e| invalid(format!("transport key: {e}")))?;
    Ok(key.to_pkcs8_der().map_err(|e| invalid(e.to_string()))?.as_bytes().to_vec())
}

/// The public half of a transport key, as base64 SPKI DER.
pub fn public_of(pkcs8: &[u8]) -> Result<String, KeyError> {
    let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(|e| invalid(format!("transport key: {e}")))?;
    let spki = key.to_public_key().to_public_key_der().map_err(|e| invalid(e.to_string()))?;
    Ok(B64.encode(spki.as_bytes()))
}

fn aad(key_id: &str, target: &str) -> Vec<u8> {
    [FORMAT.as_bytes(), b"\0", key_id.as_bytes(), b"\0", target.as_bytes()].concat()
}

/// Seal `secret` (a key record) for `target` region's transport public key.
pub fn seal(
    public_b64: &str,
    key_id: &str,
    source: &str,
    target: &str,
    secret: &[u8],
    rng: &dyn Random,
) -> Result<Bundle, KeyError> {
    let der = B64.decode(public_b64.trim()).map_err(|_| invalid("the transport key is not base64"))?;
    let public = RsaPublicKey::from_public_key_der(&der).map_err(|e| invalid(format!("the transport key: {e}")))?;
    let mut cek = [0u8; 32];
    rng.fill(&mut cek);
    let encrypted_key = public
        .encrypt(&mut RngAdapter(rng), Oaep::new::<sha2::Sha256>(), &cek)
        .map_err(|e| invalid(format!("sealing to the transport key: {e}")))?;
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let cipher = Aes256Gcm::new_from_slice(&cek).map_err(|_| invalid("bad content key"))?;
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret, aad: &aad(key_id, target) })
        .map_err(|_| invalid("sealing the bundle failed"))?;
    Ok(Bundle {
        format: FORMAT.into(),
        v: VERSION,
        key_id: key_id.into(),
        source_region: source.into(),
        target_region: target.into(),
        encrypted_key: B64.encode(encrypted_key),
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ct),
    })
}

/// Open a bundle with this region's transport private key.
pub fn open(bundle: &Bundle, pkcs8: &[u8], region: &str) -> Result<Vec<u8>, KeyError> {
    if bundle.format != FORMAT || bundle.v != VERSION {
        return Err(invalid(format!("not a {FORMAT} v{VERSION} bundle")));
    }
    if bundle.target_region != region {
        return Err(KeyError::new(
            KeyErrorKind::Denied,
            format!("the bundle of key {} is sealed for region {}, not {region}", bundle.key_id, bundle.target_region),
        ));
    }
    let private = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(|e| invalid(format!("transport key: {e}")))?;
    let fail = || {
        KeyError::new(
            KeyErrorKind::Integrity,
            format!(
                "the bundle of key {} does not open in region {region}: sealed to another transport key, or altered",
                bundle.key_id
            ),
        )
    };
    let ek = B64.decode(&bundle.encrypted_key).map_err(|_| fail())?;
    let cek = private.decrypt(Oaep::new::<sha2::Sha256>(), &ek).map_err(|_| fail())?;
    let nonce = B64.decode(&bundle.nonce).map_err(|_| fail())?;
    let ct = B64.decode(&bundle.ciphertext).map_err(|_| fail())?;
    if nonce.len() != 12 {
        return Err(fail());
    }
    let cipher = Aes256Gcm::new_from_slice(&cek).map_err(|_| fail())?;
    cipher
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: &aad(&bundle.key_id, region) })
        .map_err(|_| fail())
}
