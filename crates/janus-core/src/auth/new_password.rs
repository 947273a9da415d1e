//! NEW_PASSWORD_REQUIRED: a user with a temporary password (FORCE_CHANGE_PASSWORD) must set
//! a new one, and may supply required attributes (`userAttributes.<name>`) at the same time.
//! amazon-cognito-identity-js expects `userAttributes` as a JSON string and
//! `requiredAttributes` as a JSON array of `userAttributes.<name>`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use janus_types::{Entity, Error, Result, User, UserStatus};

use super::sealed::{self, Session};
use super::{client, param, Ctx, Outcome};
use crate::attributes::{self, SetMode};
use crate::Services;

const CHALLENGE: &str = "NEW_PASSWORD_REQUIRED";

impl Services {
    /// Ask for a new password.
    pub fn new_password_challenge(&self, ctx: &Ctx, user: &User) -> Result<Outcome> {
        let valid = sealed::session_validity_ms(&ctx.client);
        let session = Session::new(CHALLENGE, ctx, &user.key, self.now_ms(), valid);
        let visible: Map<String, Value> = user
            .attributes
            .iter()
            .filter(|(k, _)| !k.starts_with("dev:"))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let required: Vec<String> = attributes::missing_required(&ctx.pool.config, &user.attributes)
            .into_iter()
            .map(|a| format!("userAttributes.{a}"))
            .collect();
        let parameters = BTreeMap::from([
            ("USER_ID_FOR_SRP".to_owned(), user.username.clone()),
            ("requiredAttributes".to_owned(), Value::from(required).to_string()),
            ("userAttributes".to_owned(), Value::Object(visible).to_string()),
        ]);
        Ok(Outcome::Challenge {
            name: CHALLENGE.into(),
            session: Some(sealed::seal_session(&ctx.keys, &session, &*self.rng)?),
            parameters,
        })
    }

    /// Answer NEW_PASSWORD_REQUIRED.
    pub fn new_password(&self, ctx: &Ctx, session: Option<&str>, r: &BTreeMap<String, String>) -> Result<Outcome> {
        let invalid = || Error::NotAuthorizedException("Invalid session for the user.".into());
        let s = sealed::open_session(&ctx.keys, session.ok_or_else(invalid)?).ok_or_else(invalid)?;
        if s.challenge != CHALLENGE || s.pool != ctx.pool.id || s.client != ctx.client.id {
            return Err(invalid());
        }
        if s.exp_ms < self.now_ms() {
            return Err(Error::NotAuthorizedException("Invalid session for the user, session is expired.".into()));
        }
        self.ensure_primary(&ctx.pool, "Setting a new password")?;
        let new_password = param(r, "NEW_PASSWORD")?;
        let attrs: Vec<(String, String)> = r
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("userAttributes.").map(|n| (n.to_owned(), crate::attributes::normalised(n, v)))
            })
            .collect();
        attributes::validate(&ctx.pool.config, &attrs, SetMode::Update)?;
        let current = self.store.read()?.user(&ctx.pool.id, &s.user)?.ok_or_else(invalid)?;
        if let Some((name, _)) = attrs
            .iter()
            .find(|(n, _)| current.attributes.contains_key(n) && ctx.pool.config.schema(n).is_some_and(|a| a.required))
        {
            return Err(Error::invalid(format!("Cannot modify an already provided {name}")));
        }
        let username = r.get("USERNAME").map_or(current.username.as_str(), String::as_str);
        client::check_secret_hash(&ctx.client, &[username, &current.username], r.get("SECRET_HASH"))?;
        let cred = self.credential(&ctx.pool, &current.username, new_password, false)?;
        let mut tx = self.store.write(self.now_ms())?;
        let mut user = tx.user(&ctx.pool.id, &s.user)?.ok_or_else(invalid)?;
        if user.status != UserStatus::ForceChangePassword {
            return Err(invalid());
        }
        user.attributes.extend(attrs);
        let missing = attributes::missing_required(&ctx.pool.config, &user.attributes);
        if !missing.is_empty() {
            return Err(Error::invalid(format!("Missing required attributes: {}", missing.join(", "))));
        }
        user.password = Some(cred);
        user.status = UserStatus::Confirmed;
        user.modified_ms = self.now_ms();
        for other in crate::users::claim_aliases_on_update(&*tx, &ctx.pool, &mut user)? {
            tx.put(&ctx.pool.id, Entity::User(other))?;
        }
        tx.put(&ctx.pool.id, Entity::User(user.clone()))?;
        tx.commit()?;
        let ctx = Ctx { source: crate::triggers::tokens::TokenSource::NewPasswordChallenge, ..ctx.clone() };
        self.after_authentication(&ctx, &user)
    }
}
