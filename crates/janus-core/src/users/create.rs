//! AdminCreateUser: a new user in FORCE_CHANGE_PASSWORD with a temporary password, or a
//! re-sent invitation (`MessageAction: RESEND`).
//!
//! With `MessageAction: SUPPRESS` and no `TemporaryPassword`, Cognito generates a password
//! that nobody ever learns; Janus stores no credential instead, which is indistinguishable to
//! every caller and spares an argon2 hash per imported user.

use serde::Deserialize;

use janus_crypto::random;
use janus_types::{Entity, Error, PasswordCredential, Pool, PoolId, Result, Sub, User, UserStatus};

use super::{claim_aliases, find, new_user, pairs, pool_of, to_map, AttributeInput};
use crate::attributes::{self, is_email, is_phone, SetMode};
use crate::delivery::Letter;
use crate::triggers::senders::{Caller, Sealed};
use crate::triggers::signup::{apply_verified, SigningUp};
use crate::Services;

/// AdminCreateUser's input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateUser {
    pub user_pool_id: PoolId,
    pub username: String,
    #[serde(default)]
    pub user_attributes: Vec<AttributeInput>,
    pub temporary_password: Option<String>,
    #[serde(default)]
    pub force_alias_creation: bool,
    pub message_action: Option<String>,
    #[serde(default)]
    pub desired_delivery_mediums: Vec<String>,
    #[serde(default, deserialize_with = "janus_types::wire::null_as_default")]
    pub validation_data: Vec<AttributeInput>,
    #[serde(default, deserialize_with = "janus_types::wire::null_as_default")]
    pub client_metadata: std::collections::BTreeMap<String, String>,
}

/// The user name stored for `requested` and the attributes implied by it.
pub(crate) fn username_for(
    pool: &Pool,
    requested: &str,
    attrs: &mut Vec<(String, String)>,
    sub: &Sub,
) -> Result<String> {
    let ua = &pool.config.username_attributes;
    if ua.is_empty() {
        let alias = &pool.config.alias_attributes;
        if alias.iter().any(|a| a == "email") && is_email(requested) {
            return Err(Error::invalid(
                "Username cannot be of email format, since user pool is configured for email alias.",
            ));
        }
        if alias.iter().any(|a| a == "phone_number") && is_phone(requested) {
            return Err(Error::invalid(
                "Username cannot be of phone format, since user pool is configured for phone_number alias.",
            ));
        }
        return Ok(requested.to_owned());
    }
    let attr = if is_email(requested) && ua.iter().any(|a| a == "email") {
        "email"
    } else if is_phone(requested) && ua.iter().any(|a| a == "phone_number") {
        "phone_number"
    } else {
        let wanted = ua.join(" or ");
        return Err(Error::invalid(format!("Username should be {wanted}.")));
    };
    match attrs.iter().find(|(n, _)| n == attr) {
        Some((_, v)) if v != requested => {
            return Err(Error::invalid(format!("{attr} attribute does not match the username.")))
        }
        Some(_) => {}
        None => attrs.push((attr.to_owned(), requested.to_owned())),
    }
    Ok(sub.to_string())
}

impl Services {
    /// AdminCreateUser.
    pub fn admin_create_user(&self, input: CreateUser) -> Result<User> {
        let action = input.message_action.as_deref();
        if action == Some("RESEND") {
            return self.resend_invitation(&input);
        }
        let pool = pool_of(&*self.store.read()?, &input.user_pool_id)?;
        let mut attrs = pairs(&input.user_attributes);
        attributes::validate(&pool.config, &attrs, SetMode::Create)?;
        let sub = Sub::new(random::uuid_v4(&*self.rng));
        let username = username_for(&pool, &input.username, &mut attrs, &sub)?;
        let mut attributes = to_map(attrs);
        let missing = attributes::missing_required(&pool.config, &attributes);
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "Attributes did not conform to the schema: {}",
                missing.iter().map(|m| format!("{m}: The attribute {m} is required")).collect::<Vec<_>>().join(", ")
            )));
        }
        if let Some(p) = &input.temporary_password {
            crate::password_policy::check(&pool.config.password_policy, p)?;
        }
        let validation = to_map(pairs(&input.validation_data));
        let signing_up = SigningUp {
            source: "PreSignUp_AdminCreateUser",
            username: &username,
            client_id: None,
            attributes: &attributes,
            validation: &validation,
            metadata: &input.client_metadata,
        };
        let answer = self.pre_sign_up(&pool, &signing_up)?;
        apply_verified(&answer, &mut attributes);
        let (password, invite) = self.initial_password(&pool, &username, &input)?;
        let now = self.now_ms();
        let mut user = new_user(&pool, username, sub, attributes, UserStatus::ForceChangePassword, password, now);
        let sealed = match &invite {
            Some(temp) => self.seal_invitation(&pool, &user, temp, &input)?,
            None => None,
        };
        let mut tx = self.store.write(now)?;
        if tx.user(&pool.id, &user.key)?.is_some() {
            return Err(Error::UsernameExistsException("User account already exists".into()));
        }
        let displaced = claim_aliases(&*tx, &pool, &mut user, input.force_alias_creation)?;
        for other in displaced {
            tx.put(&pool.id, Entity::User(other))?;
        }
        tx.put(&pool.id, Entity::User(user.clone()))?;
        tx.commit()?;
        if let Some(temp) = invite {
            self.invite(&pool, &user, &temp, &input, sealed)?;
        }
        Ok(user)
    }

    /// The credential to store and the password to send, per the module docs.
    fn initial_password(
        &self,
        pool: &Pool,
        username: &str,
        input: &CreateUser,
    ) -> Result<(Option<PasswordCredential>, Option<String>)> {
        let suppress = input.message_action.as_deref() == Some("SUPPRESS");
        let temp = match (&input.temporary_password, suppress) {
            (Some(p), _) => p.clone(),
            (None, true) => return Ok((None, None)),
            (None, false) => {
                random::temporary_password(&*self.rng, pool.config.password_policy.minimum_length as usize)
            }
        };
        let cred = self.credential(pool, username, &temp, true)?;
        Ok((Some(cred), (!suppress).then_some(temp)))
    }

    fn resend_invitation(&self, input: &CreateUser) -> Result<User> {
        let read = || -> Result<(Pool, User)> {
            let tx = self.store.read()?;
            let pool = pool_of(&*tx, &input.user_pool_id)?;
            let user = find(&*tx, &pool, &input.username)?.ok_or_else(Error::user_not_found)?;
            Ok((pool, user))
        };
        let (pool, seen) = read()?;
        check_resendable(&seen)?;
        let temp = match &input.temporary_password {
            Some(p) => p.clone(),
            None => random::temporary_password(&*self.rng, pool.config.password_policy.minimum_length as usize),
        };
        // Sealed before the new password replaces the old one (see `seal_invitation`).
        let sealed = self.seal_invitation(&pool, &seen, &temp, input)?;
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let pool = pool_of(&*tx, &input.user_pool_id)?;
        let mut user = find(&*tx, &pool, &input.username)?.ok_or_else(Error::user_not_found)?;
        check_resendable(&user)?;
        user.password = Some(self.credential(&pool, &user.username, &temp, true)?);
        user.modified_ms = now;
        tx.put(&pool.id, Entity::User(user.clone()))?;
        tx.commit()?;
        self.invite(&pool, &user, &temp, input, sealed)?;
        Ok(user)
    }

    /// The invitation sealed for the pool's sender (when it has one), before the user is
    /// written: a key KMS refuses then refuses the call and writes nothing.
    fn seal_invitation(&self, pool: &Pool, user: &User, temp: &str, input: &CreateUser) -> Result<Option<Sealed>> {
        let caller = Caller { client_id: None, metadata: Some(&input.client_metadata) };
        self.seal_for_sender(pool, user, (INVITATION, invitation_medium(input).0), temp, caller)
    }

    fn invite(&self, pool: &Pool, user: &User, temp: &str, input: &CreateUser, sealed: Option<Sealed>) -> Result<()> {
        let (medium, attribute) = invitation_medium(input);
        let default = crate::messages::invitation(pool, medium, &user.username, temp);
        let caller = Caller { client_id: None, metadata: Some(&input.client_metadata) };
        let letter =
            Letter { source: INVITATION, medium, attribute, kind: "invitation", code: temp, default, caller, sealed };
        self.deliver(pool, user, letter)
    }
}

const INVITATION: &str = "CustomMessage_AdminCreateUser";

fn check_resendable(user: &User) -> Result<()> {
    if user.status != UserStatus::ForceChangePassword {
        return Err(Error::UnsupportedUserStateException(
            "Resend not possible. User status is not FORCE_CHANGE_PASSWORD.".into(),
        ));
    }
    Ok(())
}

/// The invitation's medium and the attribute holding its destination.
fn invitation_medium(input: &CreateUser) -> (&'static str, &'static str) {
    if input.desired_delivery_mediums.iter().any(|m| m == "EMAIL") {
        ("EMAIL", "email")
    } else {
        ("SMS", "phone_number")
    }
}
