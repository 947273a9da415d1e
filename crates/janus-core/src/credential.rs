//! Making a password credential: policy check, argon2id hash and SRP verifier, always
//! together, so every way a password is set (admin, temporary, new-password challenge,
//! change, reset) leaves a user able to sign in with both password and SRP flows.

use janus_types::{PasswordCredential, Pool, Result};

use crate::{password_policy, Services};

impl Services {
    /// A credential for `password` of the user stored as `username` in `pool`.
    pub fn credential(
        &self,
        pool: &Pool,
        username: &str,
        password: &str,
        temporary: bool,
    ) -> Result<PasswordCredential> {
        password_policy::check(&pool.config.password_policy, password)?;
        let mut c = self.credential_unchecked(pool, username, password)?;
        c.temporary = temporary;
        Ok(c)
    }

    /// A permanent credential for `password` without the policy check (a migrated user's
    /// legacy password, which Cognito takes as it is).
    pub fn credential_unchecked(&self, pool: &Pool, username: &str, password: &str) -> Result<PasswordCredential> {
        let phc = self.hasher.hash(password, &*self.rng)?;
        let v = self.srp.verifier(pool.id.suffix(), username, password, &*self.rng)?;
        Ok(PasswordCredential {
            phc,
            temporary: false,
            set_ms: self.now_ms(),
            srp_salt: Some(v.salt),
            srp_verifier: Some(v.verifier),
        })
    }
}
