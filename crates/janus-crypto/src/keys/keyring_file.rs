//! The keyring file: every key of a region, sealed as a whole. Format (versioned JSON):
//! `{"format":"janus-keyring","v":1,"kdf":{"alg":"argon2id","m_kib":…,"t":…,"p":…,"salt":…},
//! "nonce":…,"ciphertext":…}`; the key-encryption key (KEK) is argon2id of the unlock secret
//! (a passphrase, or the bytes of a key file), and the ciphertext is AES-256-GCM of the
//! keyring's JSON with the format name as associated data. Writes go to a temporary file
//! that is renamed over the old one, so a crash leaves the old or the new keyring, never half.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::path::Path;

use janus_types::Random;

use super::material::KeyRecord;
use super::{KeyError, KeyErrorKind};

const FORMAT: &str = "janus-keyring";
const VERSION: u32 = 1;

/// The keyring's content.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct KeyringData {
    pub region: String,
    pub account: String,
    pub keys: Vec<KeyRecord>,
    /// The transport private key (PKCS#8 DER, base64), made on first use.
    #[serde(default)]
    pub transport: Option<String>,
}

/// argon2id parameters and salt.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Kdf {
    alg: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    format: String,
    v: u32,
    kdf: Kdf,
    nonce: String,
    ciphertext: String,
}

fn err(kind: KeyErrorKind, msg: impl Into<String>) -> KeyError {
    KeyError::new(kind, msg)
}

impl Kdf {
    /// Fresh parameters (OWASP's argon2id minimum) with a random salt.
    pub fn generate(rng: &dyn Random) -> Self {
        let mut salt = [0u8; 16];
        rng.fill(&mut salt);
        Self { alg: "argon2id".into(), m_kib: 19 * 1024, t: 2, p: 1, salt: B64.encode(salt) }
    }

    /// The KEK for `secret`.
    pub fn derive(&self, secret: &[u8]) -> Result<[u8; 32], KeyError> {
        if self.alg != "argon2id" {
            return Err(err(KeyErrorKind::Invalid, format!("keyring KDF {} is not supported", self.alg)));
        }
        let salt = B64.decode(&self.salt).map_err(|_| err(KeyErrorKind::Invalid, "keyring salt is malformed"))?;
        let params = argon2::Params::new(self.m_kib, self.t, self.p, Some(32))
            .map_err(|e| err(KeyErrorKind::Invalid, format!("keyring KDF parameters: {e}")))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut kek = [0u8; 32];
        a.hash_password_into(secret, &salt, &mut kek)
            .map_err(|e| err(KeyErrorKind::Invalid, format!("keyring KDF: {e}")))?;
        Ok(kek)
    }
}

/// Seal `data` under `kek` (derived with `kdf`).
pub(crate) fn seal(data: &KeyringData, kdf: &Kdf, kek: &[u8; 32], rng: &dyn Random) -> Result<String, KeyError> {
    let plain = serde_json::to_vec(data).map_err(|e| err(KeyErrorKind::Unavailable, e.to_string()))?;
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let cipher = Aes256Gcm::new_from_slice(kek).map_err(|_| err(KeyErrorKind::Unavailable, "bad KEK"))?;
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: &plain, aad: FORMAT.as_bytes() })
        .map_err(|_| err(KeyErrorKind::Unavailable, "sealing the keyring failed"))?;
    let sealed = Sealed {
        format: FORMAT.into(),
        v: VERSION,
        kdf: kdf.clone(),
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ct),
    };
    serde_json::to_string_pretty(&sealed).map_err(|e| err(KeyErrorKind::Unavailable, e.to_string()))
}

/// The KDF a sealed keyring names.
pub(crate) fn kdf_of(text: &str, place: &str) -> Result<Kdf, KeyError> {
    let s: Sealed = serde_json::from_str(text)
        .map_err(|e| err(KeyErrorKind::Invalid, format!("{} is not a Janus keyring: {e}", place)))?;
    if s.format != FORMAT || s.v != VERSION {
        return Err(err(
            KeyErrorKind::Invalid,
            format!("{} is keyring format {} v{}; this binary reads {FORMAT} v{VERSION}", place, s.format, s.v),
        ));
    }
    Ok(s.kdf)
}

/// Open a sealed keyring with `kek`.
pub(crate) fn open(text: &str, kek: &[u8; 32], place: &str) -> Result<KeyringData, KeyError> {
    let s: Sealed = serde_json::from_str(text)
        .map_err(|e| err(KeyErrorKind::Invalid, format!("{} is not a Janus keyring: {e}", place)))?;
    let bad = || err(KeyErrorKind::Invalid, format!("{} is malformed", place));
    let nonce = B64.decode(&s.nonce).map_err(|_| bad())?;
    let ct = B64.decode(&s.ciphertext).map_err(|_| bad())?;
    if nonce.len() != 12 {
        return Err(bad());
    }
    let cipher = Aes256Gcm::new_from_slice(kek).map_err(|_| bad())?;
    let plain =
        cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: FORMAT.as_bytes() }).map_err(|_| {
            err(
                KeyErrorKind::Denied,
                format!(
                    "{} does not open with the given passphrase or key file (wrong secret, or the file was altered)",
                    place
                ),
            )
        })?;
    serde_json::from_slice(&plain).map_err(|e| err(KeyErrorKind::Invalid, format!("{}: {e}", place)))
}

/// Whether two keyrings hold the same keys (so reopening need not save).
pub(crate) fn same(a: &KeyringData, b: &KeyringData) -> bool {
    serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

/// Replace `path` with `text` atomically, readable by its owner only.
pub(crate) fn write_atomic(path: &Path, text: &str) -> Result<(), KeyError> {
    let io = |e: std::io::Error| err(KeyErrorKind::Unavailable, format!("writing {}: {e}", path.display()));
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}
