//! PreSignUp and PostConfirmation. PreSignUp runs before a user is stored (SignUp:
//! `PreSignUp_SignUp`; AdminCreateUser: `PreSignUp_AdminCreateUser`): an error refuses the
//! sign-up and nothing is written; `autoConfirmUser` confirms a self-service sign-up at once
//! (no code is sent), `autoVerifyEmail` / `autoVerifyPhone` (only with it) mark those
//! attributes verified. For AdminCreateUser all three are ignored, as Cognito ignores them.
//! PostConfirmation runs after a confirmation is stored (ConfirmSignUp and
//! AdminConfirmSignUp: `PostConfirmation_ConfirmSignUp`; ConfirmForgotPassword:
//! `PostConfirmation_ConfirmForgotPassword`); its error is the caller's answer, but the
//! confirmation stands, as in Cognito.

use serde_json::{json, Value};
use std::collections::BTreeMap;

use janus_types::{Error, Pool, Result, User};

use super::{flag, or_null, string_map, with_metadata, Event, Trigger};
use crate::Services;

/// What a PreSignUp function decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreSignUpAnswer {
    /// `autoConfirmUser`.
    pub auto_confirm: bool,
    /// `autoVerifyEmail`.
    pub auto_verify_email: bool,
    /// `autoVerifyPhone`.
    pub auto_verify_phone: bool,
}

/// What a sign-up sends PreSignUp.
pub struct SigningUp<'a> {
    /// `PreSignUp_SignUp` or `PreSignUp_AdminCreateUser`.
    pub source: &'static str,
    /// The user name to be stored (for a pool that signs in by email or phone, the generated
    /// one, as Cognito's events carry it).
    pub username: &'a str,
    /// The app client (SignUp), if any.
    pub client_id: Option<&'a str>,
    /// The attributes to be stored.
    pub attributes: &'a BTreeMap<String, String>,
    /// `ValidationData`.
    pub validation: &'a BTreeMap<String, String>,
    /// `ClientMetadata`.
    pub metadata: &'a BTreeMap<String, String>,
}

/// `user`'s attributes as the events carry them: with `sub` and `cognito:user_status`.
pub(crate) fn event_attributes(user: &User) -> Value {
    let mut m = match string_map(&user.attributes) {
        Value::Object(m) => m,
        _ => unreachable!("string_map builds an object"),
    };
    m.insert("sub".into(), json!(user.sub.as_str()));
    m.insert("cognito:user_status".into(), json!(user.status.as_str()));
    Value::Object(m)
}

impl Services {
    /// Run PreSignUp (when configured) for a user about to be created.
    pub fn pre_sign_up(&self, pool: &Pool, s: &SigningUp<'_>) -> Result<PreSignUpAnswer> {
        let event = Event {
            source: s.source,
            user_name: s.username,
            client_id: s.client_id,
            request: with_metadata(
                json!({"userAttributes": string_map(s.attributes), "validationData": or_null(s.validation)}),
                s.metadata,
            ),
            response: json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}),
        };
        let Some(r) = self.run_trigger(pool, Trigger::PreSignUp, event)? else { return Ok(PreSignUpAnswer::default()) };
        let answer = PreSignUpAnswer {
            auto_confirm: flag(&r, "autoConfirmUser")?,
            auto_verify_email: flag(&r, "autoVerifyEmail")?,
            auto_verify_phone: flag(&r, "autoVerifyPhone")?,
        };
        if s.source == "PreSignUp_AdminCreateUser" {
            return Ok(PreSignUpAnswer::default());
        }
        if (answer.auto_verify_email || answer.auto_verify_phone) && !answer.auto_confirm {
            return Err(Error::invalid(
                "Phone or email cannot be auto verified, when user is not being auto confirmed.",
            ));
        }
        for (on, attr) in [(answer.auto_verify_email, "email"), (answer.auto_verify_phone, "phone_number")] {
            if on && s.attributes.get(attr).is_none_or(|v| v.is_empty()) {
                return Err(Error::invalid(format!("{attr} cannot be auto verified: the user has no {attr}.")));
            }
        }
        Ok(answer)
    }

    /// Run PostConfirmation (when configured) for `user`, just confirmed.
    pub fn post_confirmation(
        &self,
        pool: &Pool,
        source: &'static str,
        user: &User,
        client_id: Option<&str>,
        metadata: &BTreeMap<String, String>,
    ) -> Result<()> {
        let event = Event {
            source,
            user_name: &user.username,
            client_id,
            request: with_metadata(json!({"userAttributes": event_attributes(user)}), metadata),
            response: json!({}),
        };
        self.run_trigger(pool, Trigger::PostConfirmation, event).map(|_| ())
    }
}

/// Apply PreSignUp's verified flags to attributes about to be stored.
pub fn apply_verified(answer: &PreSignUpAnswer, attributes: &mut BTreeMap<String, String>) {
    for (on, attr) in [(answer.auto_verify_email, "email"), (answer.auto_verify_phone, "phone_number")] {
        if on && attributes.contains_key(attr) {
            attributes.insert(format!("{attr}_verified"), "true".into());
        }
    }
}
