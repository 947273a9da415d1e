//! The administrator operations on one existing user: AdminGetUser, AdminDeleteUser,
//! AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminSetUserPassword,
//! AdminDisableUser, AdminEnableUser, AdminConfirmSignUp, AdminResetUserPassword.
//! Each reads and writes inside one transaction, so concurrent updates cannot interleave.

use janus_types::{Entity, EntityKey, Error, Pool, PoolId, Result, User, UserStatus};

use super::{claim_aliases_on_update, get, pool_of, AttributeInput};
use crate::attributes::{self, SetMode};
use crate::{password_policy, Services};

impl Services {
    /// Load pool and user, let `f` change the user, store it (with its aliases recomputed).
    pub(crate) fn modify_user(
        &self,
        pool_id: &PoolId,
        username: &str,
        f: impl FnOnce(&Pool, &mut User) -> Result<()>,
    ) -> Result<User> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let pool = pool_of(&*tx, pool_id)?;
        let mut user = get(&*tx, &pool, username)?;
        f(&pool, &mut user)?;
        user.modified_ms = now;
        for other in claim_aliases_on_update(&*tx, &pool, &mut user)? {
            tx.put(pool_id, Entity::User(other))?;
        }
        tx.put(pool_id, Entity::User(user.clone()))?;
        tx.commit()?;
        Ok(user)
    }

    /// AdminGetUser.
    pub fn admin_get_user(&self, pool_id: &PoolId, username: &str) -> Result<User> {
        let r = self.store.read()?;
        let pool = pool_of(&*r, pool_id)?;
        get(&*r, &pool, username)
    }

    /// AdminDeleteUser (memberships go with the user).
    pub fn admin_delete_user(&self, pool_id: &PoolId, username: &str) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        let pool = pool_of(&*tx, pool_id)?;
        let user = get(&*tx, &pool, username)?;
        tx.delete(pool_id, EntityKey::User { key: user.key })?;
        tx.commit()
    }

    /// AdminUpdateUserAttributes. A changed email or phone number is unverified unless the
    /// same call says otherwise.
    pub fn admin_update_attributes(&self, pool_id: &PoolId, username: &str, attrs: &[AttributeInput]) -> Result<User> {
        let pairs = super::pairs(attrs);
        self.modify_user(pool_id, username, |pool, user| {
            attributes::validate(&pool.config, &pairs, SetMode::Update)?;
            for (name, value) in &pairs {
                let changed = user.attributes.get(name) != Some(value);
                let verified = format!("{name}_verified");
                if changed && (name == "email" || name == "phone_number") && !pairs.iter().any(|(n, _)| *n == verified)
                {
                    user.attributes.insert(verified, "false".into());
                }
                user.attributes.insert(name.clone(), value.clone());
            }
            Ok(())
        })
    }

    /// AdminDeleteUserAttributes. Required attributes cannot be removed.
    pub fn admin_delete_attributes(&self, pool_id: &PoolId, username: &str, names: &[String]) -> Result<User> {
        self.modify_user(pool_id, username, |pool, user| {
            crate::attributes::known(&pool.config, names)?;
            for name in names {
                let schema = pool.config.schema(name);
                if name == "sub" || schema.is_some_and(|s| s.required || !s.mutable) {
                    return Err(Error::invalid(format!("{name}: The attribute is required or cannot be deleted.")));
                }
                user.attributes.remove(name);
            }
            Ok(())
        })
    }

    /// AdminSetUserPassword: permanent (CONFIRMED) or temporary (FORCE_CHANGE_PASSWORD).
    pub fn admin_set_password(
        &self,
        pool_id: &PoolId,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> Result<User> {
        let pool = self.load_pool(pool_id)?;
        password_policy::check(&pool.config.password_policy, password)?;
        let stored_name = self.admin_get_user(pool_id, username)?.username;
        let cred = self.credential(&pool, &stored_name, password, !permanent)?;
        self.modify_user(pool_id, username, |_, user| {
            user.password = Some(cred);
            user.status = if permanent { UserStatus::Confirmed } else { UserStatus::ForceChangePassword };
            Ok(())
        })
    }

    /// AdminDisableUser / AdminEnableUser.
    /// Disabling also revokes every token issued so far, as Cognito does.
    pub fn admin_set_enabled(&self, pool_id: &PoolId, username: &str, enabled: bool) -> Result<User> {
        let now = self.now_ms();
        self.modify_user(pool_id, username, |_, user| {
            if user.enabled && !enabled {
                user.security.tokens_valid_from_ms = now;
            }
            user.enabled = enabled;
            Ok(())
        })
    }

    /// AdminConfirmSignUp: only an UNCONFIRMED user can be confirmed; PostConfirmation runs
    /// once the confirmation is stored.
    pub fn admin_confirm_sign_up(
        &self,
        pool_id: &PoolId,
        username: &str,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<User> {
        let user = self.modify_user(pool_id, username, |_, user| {
            if user.status != UserStatus::Unconfirmed {
                return Err(Error::NotAuthorizedException(format!(
                    "User cannot be confirmed. Current status is {}",
                    user.status.as_str()
                )));
            }
            user.status = UserStatus::Confirmed;
            Ok(())
        })?;
        let pool = self.load_pool(pool_id)?;
        self.post_confirmation(&pool, "PostConfirmation_ConfirmSignUp", &user, None, metadata)?;
        Ok(user)
    }

    /// AdminResetUserPassword: the user must reset before signing in again; the reset code
    /// goes to their verified email or phone number (without one, the call is refused).
    pub fn admin_reset_password(
        &self,
        pool_id: &PoolId,
        username: &str,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<User> {
        let mut sent = None;
        let user = self.modify_user(pool_id, username, |pool, user| {
            if !user.enabled {
                return Err(Error::NotAuthorizedException("User is disabled.".into()));
            }
            if user.status == UserStatus::ForceChangePassword {
                return Err(Error::NotAuthorizedException(
                    "User password cannot be reset in the current state.".into(),
                ));
            }
            sent = Some(self.reset_code(pool, user, false)?);
            user.status = UserStatus::ResetRequired;
            Ok(())
        })?;
        if let Some((d, code)) = sent {
            self.send_code(
                &self.load_pool(pool_id)?,
                &user,
                &d,
                ("password reset", "CustomMessage_ForgotPassword"),
                &code,
                crate::triggers::senders::Caller { client_id: None, metadata: Some(metadata) },
            )?;
        }
        Ok(user)
    }
}
