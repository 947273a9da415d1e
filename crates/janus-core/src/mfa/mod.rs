//! Multi-factor authentication settings: the pool's (SetUserPoolMfaConfig,
//! GetUserPoolMfaConfig) and each user's (SetUserMFAPreference, AdminSetUserMFAPreference,
//! AdminDeleteSoftwareToken); software tokens in `token`; single use of codes across regions
//! in `once`. The sign-in challenges themselves are in `crate::auth::mfa`.
//!
//! A pool offers a factor while its configuration says so (a software token when
//! `SoftwareTokenMfaConfiguration.Enabled`, SMS and email while their configuration is set);
//! a user uses a factor they enabled and can receive (a verified token, a phone number, an
//! email address). Disabling a user's software token keeps the secret but stops its use, so
//! the user can enrol a new one (MFA_SETUP at the next sign-in when MFA is required).

pub mod once;
pub mod token;

use serde::Deserialize;
use serde_json::{json, Value};

use janus_types::{Entity, Error, MfaFactor, Pool, PoolId, PoolMfa, Result, Tier, User};

use crate::Services;

/// SetUserPoolMfaConfig's input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetPoolMfa {
    pub user_pool_id: PoolId,
    pub mfa_configuration: Option<String>,
    pub software_token_mfa_configuration: Option<Value>,
    pub sms_mfa_configuration: Option<Value>,
    pub email_mfa_configuration: Option<Value>,
}

/// One factor's `…MfaSettings` in SetUserMFAPreference.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FactorSetting {
    pub enabled: Option<bool>,
    pub preferred_mfa: Option<bool>,
}

/// The factor settings of SetUserMFAPreference / AdminSetUserMFAPreference.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Preferences {
    #[serde(rename = "SMSMfaSettings")]
    pub sms: Option<FactorSetting>,
    #[serde(rename = "SoftwareTokenMfaSettings")]
    pub software_token: Option<FactorSetting>,
    #[serde(rename = "EmailMfaSettings")]
    pub email: Option<FactorSetting>,
}

/// True when `user` can receive `factor`'s codes.
pub fn deliverable(user: &User, factor: MfaFactor) -> bool {
    match factor {
        MfaFactor::SoftwareToken => user.mfa.software_token.is_some(),
        MfaFactor::Sms => user.attributes.contains_key("phone_number"),
        MfaFactor::Email => user.attributes.contains_key("email"),
    }
}

/// GetUserPoolMfaConfig's answer.
pub fn pool_mfa_view(pool: &Pool) -> Value {
    let mut out = json!({
        "MfaConfiguration": pool.config.mfa_configuration,
        "SoftwareTokenMfaConfiguration": {"Enabled": pool.mfa.software_token},
    });
    if let Some(sms) = &pool.mfa.sms {
        out["SmsMfaConfiguration"] = sms.clone();
    }
    if let Some(email) = &pool.mfa.email {
        out["EmailMfaConfiguration"] = email.clone();
    }
    out
}

fn apply_preferences(user: &mut User, p: &Preferences) -> Result<()> {
    for (factor, setting) in
        [(MfaFactor::Sms, p.sms), (MfaFactor::SoftwareToken, p.software_token), (MfaFactor::Email, p.email)]
    {
        let Some(setting) = setting else { continue };
        if let Some(on) = setting.enabled {
            if on && !deliverable(user, factor) {
                return Err(Error::invalid(format!(
                    "User does not have delivery config set to turn on {}",
                    factor.as_str()
                )));
            }
            user.mfa.set(factor, on);
        }
        match setting.preferred_mfa {
            Some(true) if user.mfa.has(factor) => user.mfa.preferred = Some(factor),
            Some(true) => {
                return Err(Error::invalid(format!("{} must be enabled to be the preferred MFA.", factor.as_str())))
            }
            Some(false) if user.mfa.preferred == Some(factor) => user.mfa.preferred = None,
            _ => {}
        }
    }
    Ok(())
}

impl Services {
    /// SetUserPoolMfaConfig; returns the new configuration.
    pub fn set_pool_mfa(&self, input: SetPoolMfa) -> Result<Pool> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let id = &input.user_pool_id;
        let mut pool = tx.pool(id)?.ok_or_else(|| Error::pool_not_found(id.as_str()))?;
        let software_token = input
            .software_token_mfa_configuration
            .as_ref()
            .and_then(|c| c.get("Enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mfa = PoolMfa { software_token, sms: input.sms_mfa_configuration, email: input.email_mfa_configuration };
        if mfa.email.is_some() && pool.config.user_pool_tier == Tier::Lite {
            return Err(Error::FeatureUnavailableInTierException(
                "Email MFA is not available in the LITE tier.".into(),
            ));
        }
        let sms_sender = |c: Option<&Value>| c.and_then(|c| c.get("SnsCallerArn")).is_some();
        let own = mfa.sms.as_ref().and_then(|s| s.get("SmsConfiguration"));
        if mfa.sms.is_some() && !sms_sender(own) && !sms_sender(pool.config.other.get("SmsConfiguration")) {
            return Err(Error::invalid(
                "SMS configuration is required to turn on SMS MFA: give SmsMfaConfiguration.SmsConfiguration, \
                 or set the pool's SmsConfiguration.",
            ));
        }
        let mode = input.mfa_configuration.unwrap_or_else(|| pool.config.mfa_configuration.clone());
        if mode != "OFF" && !MfaFactor::ALL.into_iter().any(|f| mfa.offers(f)) {
            return Err(Error::invalid(
                "Invalid MFA configuration given, can't turn on MFA without any enabled MFA factor.",
            ));
        }
        pool.config.mfa_configuration = mode;
        pool.mfa = mfa;
        pool.modified_ms = now;
        tx.put(id, Entity::Pool(pool.clone()))?;
        tx.commit()?;
        Ok(pool)
    }

    /// SetUserMFAPreference.
    pub fn set_my_mfa_preference(&self, access_token: &str, p: &Preferences) -> Result<()> {
        self.modify_me(access_token, |_, user| apply_preferences(user, p)).map(drop)
    }

    /// AdminSetUserMFAPreference.
    pub fn admin_set_mfa_preference(&self, pool: &PoolId, username: &str, p: &Preferences) -> Result<()> {
        self.modify_user(pool, username, |_, user| apply_preferences(user, p)).map(drop)
    }

    /// AdminDeleteSoftwareToken: forget the user's software token entirely.
    pub fn admin_delete_software_token(&self, pool: &PoolId, username: &str) -> Result<()> {
        self.modify_user(pool, username, |_, user| {
            user.mfa.software_token = None;
            user.mfa.pending_token = None;
            user.mfa.set(MfaFactor::SoftwareToken, false);
            Ok(())
        })
        .map(drop)
    }
}
