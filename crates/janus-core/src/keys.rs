//! A pool's key material: created with the pool, stored as the `Keys` entity (so it
//! replicates and both regions sign and open alike), parsed once and cached in memory until
//! the stored key ids change. Serves the JWKS and hands out the current signing and sealing
//! keys.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use janus_crypto::jwt::{self, PublicKey, SigningKey};
use janus_crypto::random;
use janus_crypto::seal::SealKey;
use janus_store::Read;
use janus_types::{Error, PoolId, PoolKeys, Random, Result, StoredKey};

use crate::Services;

/// Parsed keys of one pool.
pub struct LoadedKeys {
    ids: Vec<String>,
    /// Signing keys, newest last.
    pub signing: Vec<SigningKey>,
    /// When each signing key starts to sign (ms).
    active_from: Vec<i64>,
    /// When each signing key was made (ms).
    created: Vec<i64>,
    /// Their public halves.
    pub public: Vec<PublicKey>,
    /// Sealing keys, newest last.
    pub sealing: Vec<SealKey>,
}

impl LoadedKeys {
    /// The key that signs new tokens at `now_ms`: the newest one already active (a rotated-in
    /// key is published in the JWKS for a while before it signs).
    pub fn signer(&self, now_ms: i64) -> Result<&SigningKey> {
        self.signer_since(now_ms).map(|(k, _)| k)
    }

    /// [`LoadedKeys::signer`], with the instant (ms) it started to sign (or was made, when
    /// it signed at once).
    pub fn signer_since(&self, now_ms: i64) -> Result<(&SigningKey, i64)> {
        let keys = self.signing.iter().zip(self.active_from.iter().zip(&self.created));
        let active = keys.clone().rev().find(|(_, (from, _))| **from <= now_ms);
        active
            .or_else(|| keys.clone().next())
            .map(|(k, (from, made))| (k, (*from).max(*made)))
            .ok_or_else(|| Error::internal(std::io::Error::other("pool has no signing key")))
    }

    /// The key that seals new values.
    pub fn sealer(&self) -> Result<&SealKey> {
        self.sealing.last().ok_or_else(|| Error::internal(std::io::Error::other("pool has no sealing key")))
    }

    /// The sealing key a sealed value names.
    pub fn opener(&self, sealed: &[u8]) -> Option<&SealKey> {
        let id = janus_crypto::seal::key_id(sealed)?;
        self.sealing.iter().find(|k| k.id == id)
    }
}

/// Parsed keys by pool.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<PoolId, Arc<LoadedKeys>>>);

/// A new RSA signing key that signs from `active_from_ms` (0: at once).
pub fn new_signing_key(rng: &dyn Random, now_ms: i64, rsa_bits: usize, active_from_ms: i64) -> Result<StoredKey> {
    Ok(StoredKey {
        kid: random::string_from(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 22),
        material: B64.encode(jwt::generate_pkcs8(rng, rsa_bits)?),
        created_ms: now_ms,
        active_from_ms,
        retire_after_ms: None,
    })
}

/// A new AEAD sealing key (refresh tokens, sessions, codes).
pub fn new_sealing_key(rng: &dyn Random, now_ms: i64) -> StoredKey {
    let mut seal = [0u8; 32];
    rng.fill(&mut seal);
    StoredKey {
        kid: random::string_from(rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 8),
        material: B64.encode(seal),
        created_ms: now_ms,
        active_from_ms: 0,
        retire_after_ms: None,
    }
}

/// Fresh key material for a new pool.
pub fn generate(rng: &dyn Random, now_ms: i64, rsa_bits: usize) -> Result<PoolKeys> {
    Ok(PoolKeys {
        signing: vec![new_signing_key(rng, now_ms, rsa_bits, 0)?],
        sealing: vec![new_sealing_key(rng, now_ms)],
        dek: None,
        sensitive_attributes: vec![],
    })
}

fn parse(k: &PoolKeys) -> Result<LoadedKeys> {
    let decode = |s: &StoredKey| B64.decode(&s.material).map_err(Error::internal);
    let signing = k.signing.iter().map(|s| SigningKey::from_pkcs8(&s.kid, &decode(s)?)).collect::<Result<Vec<_>>>()?;
    let sealing = k
        .sealing
        .iter()
        .map(|s| {
            let key: [u8; 32] =
                decode(s)?.try_into().map_err(|_| Error::internal(std::io::Error::other("bad sealing key")))?;
            let id: [u8; 8] =
                s.kid.as_bytes().try_into().map_err(|_| Error::internal(std::io::Error::other("bad key id")))?;
            Ok(SealKey { id, key })
        })
        .collect::<Result<Vec<_>>>()?;
    let public = signing.iter().map(SigningKey::public).collect();
    let active_from = k.signing.iter().map(|s| s.active_from_ms).collect();
    let created = k.signing.iter().map(|s| s.created_ms).collect();
    Ok(LoadedKeys { ids: k.kids(), signing, active_from, created, public, sealing })
}

impl Services {
    /// GetSigningCertificate: the X.509 certificate of the pool's signing key (base64 DER),
    /// the same in every region.
    pub fn signing_certificate(&self, pool: &PoolId) -> Result<String> {
        let r = self.store.read()?;
        crate::users::pool_of(&*r, pool)?;
        let keys = self.pool_keys(&*r, pool)?;
        let (key, since) = keys.signer_since(self.now_ms())?;
        Ok(B64.encode(janus_crypto::certificate::self_signed(key, pool.as_str(), since)?))
    }

    /// The pool's parsed keys, from the cache when the stored ones have not changed (the
    /// key material is opened and parsed only then).
    pub fn pool_keys(&self, r: &dyn Read, pool: &PoolId) -> Result<Arc<LoadedKeys>> {
        let ids = r.key_ids(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        if let Some(hit) = self.keys.0.lock().unwrap_or_else(|p| p.into_inner()).get(pool).filter(|c| c.ids == ids) {
            return Ok(hit.clone());
        }
        let stored = r.keys(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        let loaded = Arc::new(parse(&stored)?);
        let mut cache = self.keys.0.lock().unwrap_or_else(|p| p.into_inner());
        cache.insert(pool.clone(), loaded.clone());
        Ok(loaded)
    }

    /// The pool's issuer URL: `<base>/<pool id>`, the base being the one recorded with the
    /// pool while its IssuerConfiguration is `UPDATED` (the same in every region), else this
    /// region's.
    pub fn issuer(&self, pool: &janus_types::Pool) -> String {
        let shared = pool.issuer_base.as_deref().filter(|_| pool.shared_issuer());
        format!("{}/{}", shared.unwrap_or(&self.issuer_base), pool.id)
    }

    /// The pool's JWKS document.
    pub fn jwks(&self, pool: &PoolId) -> Result<Value> {
        let keys = self.pool_keys(&*self.store.read()?, pool)?;
        Ok(json!({ "keys": keys.public.iter().map(PublicKey::jwk).collect::<Vec<_>>() }))
    }

    /// The pool's OpenID Connect discovery document.
    pub fn openid_configuration(&self, pool: &PoolId) -> Result<Value> {
        let iss = self.issuer(&self.load_pool(pool)?);
        let oauth = format!("{}/oauth/{pool}", self.issuer_base);
        Ok(json!({
            "issuer": iss,
            "jwks_uri": format!("{iss}/.well-known/jwks.json"),
            "authorization_endpoint": format!("{oauth}/oauth2/authorize"),
            "token_endpoint": format!("{oauth}/oauth2/token"),
            "userinfo_endpoint": format!("{oauth}/oauth2/userInfo"),
            "revocation_endpoint": format!("{oauth}/oauth2/revoke"),
            "end_session_endpoint": format!("{oauth}/logout"),
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "claims_supported": ["sub", "iss", "aud", "token_use", "auth_time", "exp", "iat", "email", "email_verified",
                "phone_number", "phone_number_verified", "cognito:username", "cognito:groups"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        }))
    }
}
