//! UserMigration: a user the pool does not know yet is asked for from a legacy store on their
//! first password sign-in (`UserMigration_Authentication`, with the password they typed) or
//! ForgotPassword (`UserMigration_ForgotPassword`, no password). The function answers the
//! user's attributes and `finalUserStatus`; Janus creates the user (the password hashed with
//! argon2id, never stored as sent; Cognito's password policy does not apply to it) and the
//! operation goes on as for any user: CONFIRMED signs in, RESET_REQUIRED is told to reset.
//! A function that raises means "no such user": Cognito's `UserNotFoundException` (`Exception
//! migrating user in app client …`), or — when the app client hides whether users exist — the
//! operation's usual answer for an unknown name (the decoy password check, the simulated
//! delivery). Only the primary creates users; a secondary does not migrate.

use serde_json::{json, Map, Value};

use janus_crypto::random;
use janus_types::{Entity, Error, MfaFactor, Result, Sub, User, UserStatus};

use super::{or_null, with_metadata, Event, Trigger};
use crate::attributes::{self, SetMode};
use crate::auth::Ctx;
use crate::users::{claim_aliases, create::username_for, new_user};
use crate::Services;

fn unrecognizable() -> Error {
    Error::InvalidLambdaResponseException("Unrecognizable lambda output".into())
}

/// The answer's `userAttributes` as (name, value) pairs; it is required.
fn attributes_of(r: &Map<String, Value>) -> Result<Vec<(String, String)>> {
    let Some(Value::Object(m)) = r.get("userAttributes") else { return Err(unrecognizable()) };
    m.iter()
        .filter(|(k, _)| k.as_str() != "username" && k.as_str() != "sub")
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), attributes::normalised(k, s))),
            Value::Bool(b) => Ok((k.clone(), b.to_string())),
            _ => Err(unrecognizable()),
        })
        .collect()
}

impl Services {
    /// Ask UserMigration for `username`, unknown to the pool; the user it created, if any.
    pub fn migrate_user(&self, ctx: &Ctx, username: &str, password: Option<&str>) -> Result<Option<User>> {
        if self.trigger_function(&ctx.pool, Trigger::UserMigration).is_none() || !self.is_primary(&ctx.pool) {
            return Ok(None);
        }
        let source = if password.is_some() { "UserMigration_Authentication" } else { "UserMigration_ForgotPassword" };
        let mut request = json!({"validationData": or_null(&ctx.validation_data)});
        if let Some(p) = password {
            request["password"] = json!(p);
        }
        let event = Event {
            source,
            user_name: username,
            client_id: Some(ctx.client.id.as_str()),
            request: with_metadata(request, &ctx.metadata),
            response: json!({"userAttributes": null, "finalUserStatus": null, "messageAction": null,
                             "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null}),
        };
        let r = match self.run_trigger(&ctx.pool, Trigger::UserMigration, event) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(None),
            // Hiding existence, "no such user" is the caller's usual hidden answer.
            Err(Error::UserLambdaValidationException(_)) if crate::auth::password::prevents_existence_errors(ctx) => {
                return Ok(None)
            }
            Err(Error::UserLambdaValidationException(_)) => {
                return Err(Error::UserNotFoundException(format!(
                    "Exception migrating user in app client {}",
                    ctx.client.id
                )))
            }
            Err(e) => return Err(e),
        };
        let mut attrs = attributes_of(&r)?;
        attributes::validate(&ctx.pool.config, &attrs, SetMode::Create)?;
        let sub = Sub::new(random::uuid_v4(&*self.rng));
        let name = username_for(&ctx.pool, username, &mut attrs, &sub)?;
        let status = match r.get("finalUserStatus").and_then(Value::as_str) {
            Some("CONFIRMED") => UserStatus::Confirmed,
            _ => UserStatus::ResetRequired,
        };
        let credential = match password {
            Some(p) => Some(self.credential_unchecked(&ctx.pool, &name, p)?),
            None => None,
        };
        let now = self.now_ms();
        let mut user = new_user(&ctx.pool, name, sub, attrs.into_iter().collect(), status, credential, now);
        if r.get("enableSMSMFA").and_then(Value::as_bool) == Some(true) {
            if !user.attributes.contains_key("phone_number") {
                return Err(Error::invalid("enableSMSMFA needs the user's phone_number."));
            }
            user.mfa.enabled.push(MfaFactor::Sms);
        }
        let force = r.get("forceAliasCreation").and_then(Value::as_bool) == Some(true);
        let mut tx = self.store.write(now)?;
        if tx.user(&ctx.pool.id, &user.key)?.is_some() {
            return Err(Error::UsernameExistsException("User already exists".into()));
        }
        for other in claim_aliases(&*tx, &ctx.pool, &mut user, force)? {
            tx.put(&ctx.pool.id, Entity::User(other))?;
        }
        tx.put(&ctx.pool.id, Entity::User(user.clone()))?;
        tx.commit()?;
        tracing::info!(pool = %ctx.pool.id, user = %user.username, source, "user migrated");
        Ok(Some(user))
    }
}
