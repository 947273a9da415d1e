//! RS256 JSON Web Tokens: RSA-2048 signing keys (generated here with `rsa`, stored as PKCS#8
//! by the caller), compact-serialized signing with `aws-lc-rs` (AWS-LC's RSA is about twice
//! as fast as `ring`'s on this machine's x86-64 and several times faster than `rsa`'s; its
//! blinding uses the OS's randomness, which affects no output),
//! signature verification (also `aws-lc-rs`, with the key parsed once: `rsa`'s verification,
//! num-bigint-dig's Montgomery loop, was half of GetUser's CPU), and the JWK form a JWKS
//! publishes. Claims are plain JSON; what they mean is the token service's business.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use std::sync::Arc;

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};

use janus_types::{Error, Random};

use crate::random::RngAdapter;

/// A private signing key, parsed and ready.
pub struct SigningKey {
    signer: aws_lc_rs::signature::RsaKeyPair,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.public.kid).finish_non_exhaustive()
    }
}

/// A public key that verifies tokens.
#[derive(Clone)]
pub struct PublicKey {
    kid: String,
    verifier: Arc<ParsedPublicKey>,
    public: RsaPublicKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// Generate a new RSA key of `bits` (2048 in service; tests may use less to run faster);
/// returns its PKCS#8 DER encoding.
pub fn generate_pkcs8(rng: &dyn Random, bits: usize) -> Result<Vec<u8>, Error> {
    let key = RsaPrivateKey::new(&mut RngAdapter(rng), bits).map_err(Error::internal)?;
    Ok(key.to_pkcs8_der().map_err(Error::internal)?.as_bytes().to_vec())
}

impl SigningKey {
    /// Parse a PKCS#8 DER key stored under `kid`.
    pub fn from_pkcs8(kid: &str, der: &[u8]) -> Result<Self, Error> {
        let rejected =
            |e: &dyn std::fmt::Display| Error::internal(std::io::Error::other(format!("RSA key rejected: {e}")));
        let key = RsaPrivateKey::from_pkcs8_der(der).map_err(Error::internal)?;
        let public = key.to_public_key();
        let signer = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der).map_err(|e| rejected(&e))?;
        let (n, e) = (public.n().to_bytes_be(), public.e().to_bytes_be());
        let verifier = RsaPublicKeyComponents { n: &n[..], e: &e[..] }
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .map_err(|e| rejected(&e))?;
        Ok(Self { signer, public: PublicKey { kid: kid.to_owned(), verifier: Arc::new(verifier), public } })
    }

    /// The key id (`kid`).
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        self.public.clone()
    }

    /// Sign `claims` into a compact JWT with header `{"kid", "alg": "RS256"}`.
    pub fn sign(&self, claims: &Value, _rng: &dyn Random) -> Result<String, Error> {
        let header = json!({"kid": self.public.kid, "alg": "RS256"});
        let signing_input = format!(
            "{}.{}",
            B64URL.encode(serde_json::to_vec(&header).map_err(Error::internal)?),
            B64URL.encode(serde_json::to_vec(claims).map_err(Error::internal)?)
        );
        let sig = self.sign_bytes(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", B64URL.encode(sig)))
    }

    /// An RSASSA-PKCS1-v1_5 SHA-256 signature of `message` (deterministic: the same bytes
    /// sign the same way in every region).
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut sig = vec![0u8; self.signer.public_modulus_len()];
        self.signer
            .sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), message, &mut sig)
            .map_err(|_| Error::internal(std::io::Error::other("RSA signing failed")))?;
        Ok(sig)
    }

    /// The public key as a DER SubjectPublicKeyInfo.
    pub fn public_key_info_der(&self) -> Result<Vec<u8>, Error> {
        use rsa::pkcs8::EncodePublicKey;
        Ok(self.public.public.to_public_key_der().map_err(Error::internal)?.as_bytes().to_vec())
    }
}

impl PublicKey {
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWK a JWKS lists.
    pub fn jwk(&self) -> Value {
        json!({
            "alg": "RS256",
            "e": B64URL.encode(self.public.e().to_bytes_be()),
            "kid": self.kid,
            "kty": "RSA",
            "n": B64URL.encode(self.public.n().to_bytes_be()),
            "use": "sig",
        })
    }
}

/// Verify `token`'s RS256 signature with whichever of `keys` its `kid` names; returns the
/// claims. Expiry and audience are for the caller to check.
pub fn verify(token: &str, keys: &[PublicKey]) -> Result<Value, Error> {
    let bad = || Error::NotAuthorizedException("Invalid Access Token".into());
    let mut parts = token.split('.');
    let (h, p, s) = (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
    if parts.next().is_some() {
        return Err(bad());
    }
    #[derive(serde::Deserialize)]
    struct Header {
        alg: String,
        kid: String,
    }
    let header: Header = serde_json::from_slice(&B64URL.decode(h).map_err(|_| bad())?).map_err(|_| bad())?;
    if header.alg != "RS256" {
        return Err(bad());
    }
    let key = keys.iter().find(|k| k.kid == header.kid).ok_or_else(bad)?;
    let sig = B64URL.decode(s).map_err(|_| bad())?;
    // The signing input is the token's own prefix: no copy.
    let signed = &token[..h.len() + 1 + p.len()];
    key.verifier.verify_sig(signed.as_bytes(), &sig).map_err(|_| bad())?;
    serde_json::from_slice(&B64URL.decode(p).map_err(|_| bad())?).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    #[test]
    fn signed_tokens_verify_and_tampering_fails() {
        let rng = SeededRandom::new(9);
        let der = generate_pkcs8(&rng, 2048).unwrap();
        let key = SigningKey::from_pkcs8("k1", &der).unwrap();
        let token = key.sign(&json!({"sub": "s", "token_use": "access"}), &rng).unwrap();
        let claims = verify(&token, &[key.public()]).unwrap();
        assert_eq!(claims["sub"], "s");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = B64URL.encode(br#"{"sub":"admin","token_use":"access"}"#);
        parts[1] = &forged;
        assert!(verify(&parts.join("."), &[key.public()]).is_err());
        let other = SigningKey::from_pkcs8("k1", &generate_pkcs8(&rng, 2048).unwrap()).unwrap();
        assert!(verify(&token, &[other.public()]).is_err());
        assert_eq!(key.public().jwk()["e"], "AQAB");
        // A key id that names no key, or a signature of the wrong length, is refused.
        assert!(verify(&token, &[SigningKey::from_pkcs8("k2", &der).unwrap().public()]).is_err());
        let short = format!("{}.{}", &token[..token.rfind('.').unwrap()], B64URL.encode([1u8; 16]));
        assert!(verify(&short, &[key.public()]).is_err());
    }
}
