//! Authorization codes: a versioned JSON record sealed with the pool's newest sealing key
//! (AES-256-GCM, purpose `oauth-code`), so any region holding the pool's replicated keys can
//! redeem it — a sign-in begun at the primary completes at the secondary after a failover.
//! A code lives 5 minutes (as Cognito's) and is single-use (`redeemed`). PKCE: the code
//! keeps the S256 challenge; the verifier must hash to it (RFC 7636 §4.6).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use janus_crypto::random;
use janus_types::{ClientId, PoolId, Result, Sub, UserKey};

use super::authorize::AuthRequest;
use super::client::same_secret;
use crate::auth::sealed;
use crate::keys::LoadedKeys;
use crate::Services;

/// How long a code may be redeemed.
pub const CODE_TTL_MS: i64 = 5 * 60 * 1000;

const PURPOSE: &str = "oauth-code";

/// What a code carries.
#[allow(missing_docs)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeClaims {
    pub v: u8,
    /// The code's own id: what the single-use record remembers.
    pub id: String,
    pub pool: PoolId,
    pub client: ClientId,
    pub user: UserKey,
    pub sub: Sub,
    pub redirect_uri: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    pub auth_time: i64,
    pub exp_ms: i64,
}

/// `BASE64URL(SHA256(verifier))`, the S256 transform.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Check a token request's `code_verifier` against the code: required and matching when the
/// authorization request had a challenge, refused when it had none (RFC 9700 §2.1.1).
pub fn check_verifier(c: &CodeClaims, verifier: Option<&str>) -> std::result::Result<(), &'static str> {
    match (&c.challenge, verifier) {
        (Some(_), None) => Err("code_verifier is required."),
        (None, Some(_)) => Err("code_verifier sent, but the authorization request had no code_challenge."),
        (None, None) => Ok(()),
        (Some(ch), Some(v)) => {
            let well_formed = (43..=128).contains(&v.len())
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            if well_formed && same_secret(&s256(v), ch) {
                Ok(())
            } else {
                Err("code_verifier does not match the code_challenge.")
            }
        }
    }
}

impl Services {
    /// Mint a code for `user` signed in at `auth_time` (s) under request `r`.
    pub fn issue_code(
        &self,
        keys: &LoadedKeys,
        r: &AuthRequest,
        user: &janus_types::User,
        auth_time: i64,
    ) -> Result<String> {
        let c = CodeClaims {
            v: 1,
            id: random::uuid_v4(&*self.rng),
            pool: r.pool.clone(),
            client: r.client.clone(),
            user: user.key.clone(),
            sub: user.sub.clone(),
            redirect_uri: r.redirect_uri.clone(),
            scope: r.scope.clone(),
            nonce: r.nonce.clone(),
            challenge: r.challenge.clone(),
            auth_time,
            exp_ms: self.now_ms() + CODE_TTL_MS,
        };
        sealed::seal_url(keys, PURPOSE, &c, &*self.rng)
    }

    /// Open a code of `pool`; `None` when forged, altered or of another pool. Expiry is the
    /// caller's check.
    pub fn open_code(&self, keys: &LoadedKeys, pool: &PoolId, code: &str) -> Option<CodeClaims> {
        let c: CodeClaims = sealed::open_url(keys, PURPOSE, code)?;
        (c.pool == *pool).then_some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(challenge: Option<&str>) -> CodeClaims {
        CodeClaims {
            v: 1,
            id: "x".into(),
            pool: PoolId::parse("us-east-1_a").unwrap(),
            client: ClientId::parse("c").unwrap(),
            user: UserKey::from_stored("u".into()),
            sub: Sub::new("s".into()),
            redirect_uri: "https://app/cb".into(),
            scope: "openid".into(),
            nonce: None,
            challenge: challenge.map(str::to_owned),
            auth_time: 0,
            exp_ms: 0,
        }
    }

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifier_rules() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let with = claims(Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(check_verifier(&with, Some(v)).is_ok());
        assert!(check_verifier(&with, None).is_err());
        assert!(check_verifier(&with, Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX")).is_err());
        let without = claims(None);
        assert!(check_verifier(&without, None).is_ok());
        assert!(check_verifier(&without, Some(v)).is_err());
    }
}
