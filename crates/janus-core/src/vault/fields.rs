//! Which fields of which entity are secret, and sealing and opening them. Each field's
//! associated data is `<pool>/<entity>/<field>`, so a ciphertext copied to another user,
//! client, field or pool does not decrypt. Sensitive attributes that are sign-in aliases are
//! indexed by a keyed digest (`email#h:<digest>`) instead of their value.

use janus_crypto::envelope::{self, Dek};
use janus_types::{Client, Device, Entity, PoolId, PoolKeys, Result, SoftwareToken, User};

use super::{PoolSecrets, Vault};
use crate::attributes::alias_key;

/// Seals and opens the fields of one pool's entities.
pub(crate) struct Fields<'a> {
    pub vault: &'a Vault,
    pub pool: &'a PoolId,
    pub secrets: &'a PoolSecrets,
}

/// True when `entity` holds a field that may be encrypted.
pub(crate) fn has_secrets(entity: &Entity) -> bool {
    matches!(entity, Entity::User(_) | Entity::Client(_) | Entity::Keys(_) | Entity::Device(_))
}

/// The blind-index form of a sensitive alias.
pub(crate) fn hashed_alias(dek: &Dek, attr: &str, alias: &str) -> String {
    format!("{attr}#h:{}", dek.digest("alias", alias))
}

impl Fields<'_> {
    fn ctx(&self, entity: &str, field: &str) -> String {
        format!("{}/{entity}/{field}", self.pool)
    }

    fn seal(&self, ctx: &str, value: &mut String) {
        if !envelope::is_encrypted(value) {
            *value = envelope::encrypt(&self.secrets.dek, ctx, value.as_bytes(), self.vault.rng());
        }
    }

    fn open(&self, ctx: &str, value: &mut String) -> Result<()> {
        if envelope::is_encrypted(value) {
            let plain = envelope::decrypt(&self.secrets.dek, ctx, value).map_err(|e| self.vault.fail(self.pool, e))?;
            *value = String::from_utf8(plain).map_err(janus_types::Error::internal)?;
        }
        Ok(())
    }

    /// Seal chunk `n` of an import job's CSV (password hashes and personal data).
    pub fn seal_chunk(&self, job: &str, n: u32, body: &mut String) {
        self.seal(&self.ctx(&format!("import:{job}"), &format!("chunk:{n}")), body);
    }

    /// Open a chunk [`Fields::seal_chunk`] sealed.
    pub fn open_chunk(&self, job: &str, n: u32, body: &mut String) -> Result<()> {
        self.open(&self.ctx(&format!("import:{job}"), &format!("chunk:{n}")), body)
    }

    /// Seal the secret fields of `entity`.
    pub fn seal_entity(&self, entity: &mut Entity) -> Result<()> {
        match entity {
            Entity::User(u) => self.seal_user(u),
            Entity::Client(c) => self.client(c, |ctx, v| {
                self.seal(ctx, v);
                Ok(())
            }),
            Entity::Keys(k) => self.keys(k, |ctx, v| {
                self.seal(ctx, v);
                Ok(())
            }),
            Entity::Device(d) => {
                self.seal(&self.device_ctx(d), &mut d.verifier);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Open the secret fields of `entity`.
    pub fn open_entity(&self, entity: &mut Entity) -> Result<()> {
        match entity {
            Entity::User(u) => self.open_user(u),
            Entity::Client(c) => self.client(c, |ctx, v| self.open(ctx, v)),
            Entity::Keys(k) => self.keys(k, |ctx, v| self.open(ctx, v)),
            Entity::Device(d) => self.open(&self.device_ctx(d), &mut d.verifier),
            _ => Ok(()),
        }
    }

    fn client(&self, c: &mut Client, mut f: impl FnMut(&str, &mut String) -> Result<()>) -> Result<()> {
        let entity = format!("client:{}", c.id.as_str());
        if let Some(s) = c.secret.as_mut() {
            f(&self.ctx(&entity, "secret"), s)?;
        }
        c.second_secret.as_mut().map_or(Ok(()), |s| f(&self.ctx(&entity, "second_secret"), &mut s.value))
    }

    fn device_ctx(&self, d: &Device) -> String {
        self.ctx(&format!("device:{}:{}", d.user.as_str(), d.key), "verifier")
    }

    fn keys(&self, k: &mut PoolKeys, mut f: impl FnMut(&str, &mut String) -> Result<()>) -> Result<()> {
        for s in &mut k.signing {
            f(&self.ctx("keys", &format!("signing:{}", s.kid)), &mut s.material)?;
        }
        for s in &mut k.sealing {
            f(&self.ctx("keys", &format!("sealing:{}", s.kid)), &mut s.material)?;
        }
        Ok(())
    }

    fn user_fields<'u>(&self, u: &'u mut User) -> (String, Vec<(&'static str, &'u mut String)>) {
        let entity = format!("user:{}", u.key.as_str());
        let mut out: Vec<(&'static str, &mut String)> = Vec::new();
        if let Some(p) = &mut u.password {
            out.push(("phc", &mut p.phc));
            if let Some(v) = &mut p.srp_verifier {
                out.push(("srp_verifier", v));
            }
        }
        let tokens: [(&'static str, &mut Option<SoftwareToken>); 2] =
            [("totp", &mut u.mfa.software_token), ("totp_pending", &mut u.mfa.pending_token)];
        for (name, t) in tokens {
            if let Some(t) = t {
                out.push((name, &mut t.sealed));
            }
        }
        (entity, out)
    }

    fn seal_user(&self, u: &mut User) -> Result<()> {
        let dek = &self.secrets.dek;
        for a in &mut u.aliases {
            let sensitive = |attr: &&str| self.secrets.sensitive.iter().any(|s| s == attr);
            let hashed =
                a.split_once(':').map(|(attr, _)| attr).filter(sensitive).map(|attr| hashed_alias(dek, attr, a));
            if let Some(h) = hashed {
                *a = h;
            }
        }
        let (entity, fields) = self.user_fields(u);
        for (name, v) in fields {
            self.seal(&self.ctx(&entity, name), v);
        }
        for (name, v) in u.attributes.iter_mut().filter(|(n, _)| self.secrets.sensitive.contains(n)) {
            self.seal(&self.ctx(&entity, &format!("attr:{name}")), v);
        }
        Ok(())
    }

    fn open_user(&self, u: &mut User) -> Result<()> {
        let (entity, fields) = self.user_fields(u);
        for (name, v) in fields {
            self.open(&self.ctx(&entity, name), v)?;
        }
        for (name, v) in u.attributes.iter_mut() {
            self.open(&self.ctx(&entity, &format!("attr:{name}")), v)?;
        }
        for a in &mut u.aliases {
            let Some((attr, digest)) = a.split_once("#h:") else { continue };
            let Some(value) = u.attributes.get(attr) else { continue };
            let plain = alias_key(attr, value);
            if hashed_alias(&self.secrets.dek, attr, &plain).ends_with(digest) {
                *a = plain;
            }
        }
        Ok(())
    }
}
