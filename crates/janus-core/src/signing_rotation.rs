//! Rotating a pool's JWT signing key without breaking a token: the new key is published in
//! the JWKS at once but signs only after the activation delay (so every verifier that caches
//! the JWKS has seen it), and the key it replaces stays published until the longest ID or
//! access token validity of the pool's clients has passed after the switch. Keys whose time
//! is up are dropped at the next rotation. The keys entity replicates, so both regions switch
//! at the same instant. Sealing keys (refresh tokens, sessions, authorization codes) rotate
//! too: the newest seals, every older one still opens what it sealed.

use janus_types::{Entity, Error, PoolId, Result};

use crate::auth::tokens::validity_s;
use crate::vault::KeySettings;
use crate::Services;

/// What a rotation did.
#[derive(Debug, Clone)]
pub struct SigningRotation {
    /// The new key's id.
    pub kid: String,
    /// When it starts to sign (ms).
    pub active_from_ms: i64,
    /// Until when the keys it replaces stay published (ms).
    pub previous_retire_after_ms: i64,
}

impl Services {
    /// The longest ID or access token lifetime (s) of the pool's clients (one hour at least).
    fn longest_jwt_validity_s(&self, pool: &PoolId) -> Result<i64> {
        let mut longest = 3600;
        let mut after = None;
        loop {
            let page = self.store.read()?.clients(pool, after.as_ref(), 60)?;
            for c in &page {
                longest = longest.max(validity_s(c, "AccessToken")).max(validity_s(c, "IdToken"));
            }
            if page.len() < 60 {
                return Ok(longest);
            }
            after = page.last().map(|c| c.id.clone());
        }
    }

    /// Publish a new signing key for `pool` that signs after the activation delay.
    pub fn rotate_signing_key(&self, pool: &PoolId) -> Result<SigningRotation> {
        let p = self.load_pool(pool)?;
        self.ensure_primary(&p, "RotateSigningKey")?;
        let now = self.now_ms();
        let activation = self.vault().map_or(KeySettings::default(), |v| v.settings).signing_activation_ms;
        let active_from_ms = now + activation;
        let retire = active_from_ms + self.longest_jwt_validity_s(pool)? * 1000;
        let key = crate::keys::new_signing_key(&*self.rng, now, self.rsa_bits, active_from_ms)?;
        let kid = key.kid.clone();
        let mut tx = self.store.write(now)?;
        let mut keys = tx.keys(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        keys.signing.retain(|k| k.retire_after_ms.is_none_or(|t| t > now));
        for k in &mut keys.signing {
            k.retire_after_ms = Some(k.retire_after_ms.map_or(retire, |t| t.min(retire)));
        }
        keys.signing.push(key);
        tx.put(pool, Entity::Keys(keys))?;
        tx.commit()?;
        tracing::info!(target: "janus::audit", event = "signing_key_rotated", pool = %pool, kid = %kid,
            active_from_ms, "signing key rotated");
        Ok(SigningRotation { kid, active_from_ms, previous_retire_after_ms: retire })
    }
}

impl Services {
    /// Add a new sealing key to `pool`: it seals new refresh tokens, sessions and codes from
    /// now on; the older ones keep opening theirs. Returns its id.
    pub fn rotate_sealing_key(&self, pool: &PoolId) -> Result<String> {
        let p = self.load_pool(pool)?;
        self.ensure_primary(&p, "RotateSealingKey")?;
        let now = self.now_ms();
        let key = crate::keys::new_sealing_key(&*self.rng, now);
        let kid = key.kid.clone();
        let mut tx = self.store.write(now)?;
        let mut keys = tx.keys(pool)?.ok_or_else(|| Error::pool_not_found(pool.as_str()))?;
        keys.sealing.push(key);
        tx.put(pool, Entity::Keys(keys))?;
        tx.commit()?;
        tracing::info!(target: "janus::audit", event = "sealing_key_rotated", pool = %pool, kid = %kid, "sealing key rotated");
        Ok(kid)
    }
}
