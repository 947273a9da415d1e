//! Self-service sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode. A new user is
//! UNCONFIRMED; when the pool auto-verifies email or phone, a code goes there and confirming
//! with it marks that attribute verified.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Instant;

use janus_crypto::random;
use janus_types::{ClientId, Entity, Error, Result, Sub, User, UserStatus};

use crate::attributes::{self, SetMode};
use crate::auth::{client, password, Ctx};
use crate::codes::{self, Delivery};
use crate::delivery::Letter;
use crate::existence::{self, Route};
use crate::triggers::senders::Caller;
use crate::triggers::signup::{apply_verified, SigningUp};
use crate::users::{self, claim_aliases, create::username_for, new_user, pairs, to_map, AttributeInput};
use crate::Services;

const SIGNUP_CODE_MS: i64 = 24 * 3600 * 1000;
/// CustomMessage's `triggerSource` for a sign-up code.
const SIGN_UP: &str = "CustomMessage_SignUp";

/// SignUp's input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignUp {
    pub client_id: ClientId,
    pub secret_hash: Option<String>,
    pub username: String,
    pub password: Option<String>,
    #[serde(default)]
    pub user_attributes: Vec<AttributeInput>,
    #[serde(default, deserialize_with = "janus_types::wire::null_as_default")]
    pub validation_data: Vec<AttributeInput>,
    #[serde(default, deserialize_with = "janus_types::wire::null_as_default")]
    pub client_metadata: BTreeMap<String, String>,
}

/// What SignUp reports.
#[derive(Debug, Clone)]
pub struct SignedUp {
    /// The new user.
    pub user: User,
    /// Where the confirmation code went, if one was sent.
    pub delivery: Option<Delivery>,
    /// SignUp's Session (kept by clients for the sign-up's steps).
    pub session: String,
}

/// Username + code inputs shared by ConfirmSignUp, ResendConfirmationCode, ForgotPassword, ….
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeInput {
    pub client_id: ClientId,
    pub secret_hash: Option<String>,
    pub username: String,
    pub confirmation_code: Option<String>,
    pub password: Option<String>,
    #[serde(default, deserialize_with = "janus_types::wire::null_as_default")]
    pub client_metadata: BTreeMap<String, String>,
    /// ConfirmSignUp's Session (SignUp's): accepted, not needed.
    #[serde(default)]
    pub session: Option<String>,
}

fn auto_verified_destination(ctx: &Ctx, user: &User) -> Option<Delivery> {
    let auto = &ctx.pool.config.auto_verified_attributes;
    ["email", "phone_number"]
        .into_iter()
        .filter(|a| auto.iter().any(|x| x == a))
        .find_map(|a| codes::destination(user, Some(a), false))
}

impl Services {
    /// SignUp.
    pub fn sign_up(&self, input: SignUp) -> Result<SignedUp> {
        let ctx = self.auth_ctx(&input.client_id, None, false)?;
        client::check_secret_hash(&ctx.client, &[&input.username], input.secret_hash.as_ref())?;
        let pool = &ctx.pool;
        if pool.config.admin_create_user_config.allow_admin_create_user_only {
            return Err(Error::NotAuthorizedException("SignUp is not permitted for this user pool".into()));
        }
        let mut attrs = pairs(&input.user_attributes);
        attributes::validate(&pool.config, &attrs, SetMode::Create)?;
        attributes::check_writable(&ctx.client, attrs.iter().map(|(n, _)| n.as_str()))?;
        if attrs.iter().any(|(n, _)| n.ends_with("_verified")) {
            return Err(Error::NotAuthorizedException("A client attempted to write unauthorized attribute".into()));
        }
        let sub = Sub::new(random::uuid_v4(&*self.rng));
        let username = username_for(pool, &input.username, &mut attrs, &sub)?;
        let mut attributes = to_map(attrs);
        let missing = attributes::missing_required(&pool.config, &attributes);
        if !missing.is_empty() {
            return Err(Error::invalid(format!(
                "Attributes did not conform to the schema: {} is required",
                missing.join(", ")
            )));
        }
        // Without a password when the pool signs users in with one-time codes.
        let passwordless = crate::auth::choice::allowed_first_factors(pool).iter().any(|f| f.ends_with("_OTP"));
        let password = input.password.as_deref().filter(|p| !p.is_empty());
        if password.is_none() && !passwordless {
            return Err(Error::invalid("Password is required."));
        }
        if let Some(p) = password {
            crate::password_policy::check(&pool.config.password_policy, p)?;
        }
        let validation = to_map(pairs(&input.validation_data));
        let answer = self.pre_sign_up(
            pool,
            &SigningUp {
                source: "PreSignUp_SignUp",
                username: &username,
                client_id: Some(ctx.client.id.as_str()),
                attributes: &attributes,
                validation: &validation,
                metadata: &input.client_metadata,
            },
        )?;
        apply_verified(&answer, &mut attributes);
        let credential = password.map(|p| self.credential(pool, &username, p, false)).transpose()?;
        let now = self.now_ms();
        let status = if answer.auto_confirm { UserStatus::Confirmed } else { UserStatus::Unconfirmed };
        let mut user = new_user(pool, username, sub, attributes, status, credential, now);
        let delivery = auto_verified_destination(&ctx, &user).filter(|_| !answer.auto_confirm);
        let code = match &delivery {
            Some(_) => Some(self.new_code(pool, &mut user, "signup", SIGNUP_CODE_MS)?),
            None => None,
        };
        let caller = Caller { client_id: Some(ctx.client.id.as_str()), metadata: Some(&input.client_metadata) };
        // Sealed for a custom sender before the user is written: a key KMS refuses leaves no user.
        let sealed = match (&delivery, &code) {
            (Some(d), Some(code)) => self.seal_for_sender(pool, &user, (SIGN_UP, d.medium), code, caller)?,
            _ => None,
        };
        let mut tx = self.store.write(now)?;
        if tx.user(&pool.id, &user.key)?.is_some() {
            return Err(Error::UsernameExistsException("User already exists".into()));
        }
        claim_aliases(&*tx, pool, &mut user, false)?;
        tx.put(&pool.id, Entity::User(user.clone()))?;
        tx.commit()?;
        if let (Some(d), Some(code)) = (&delivery, code) {
            let default = crate::messages::code(pool, d.medium, "confirmation", &code);
            let (medium, attribute, code) = (d.medium, d.attribute, code.as_str());
            let letter = Letter { source: SIGN_UP, medium, attribute, kind: "code", code, default, caller, sealed };
            self.deliver(pool, &user, letter)?;
        }
        let session = self.session_for(&ctx, &user.key, "SIGN_UP")?;
        Ok(SignedUp { user, delivery, session })
    }

    /// Load the user a code operation names, after the client's checks.
    pub(crate) fn code_ctx(&self, input: &CodeInput) -> Result<(Ctx, Option<User>)> {
        let ctx = self.auth_ctx(&input.client_id, None, false)?;
        client::check_secret_hash(&ctx.client, &[&input.username], input.secret_hash.as_ref())?;
        let user = users::find(&*self.store.read()?, &ctx.pool, &input.username)?;
        Ok((ctx, user))
    }

    /// Run `f` on the stored user inside a write, store the result, then report `f`'s verdict
    /// (so a wrong code's attempt count is kept even though the call fails).
    pub(crate) fn with_user(
        &self,
        ctx: &Ctx,
        user: &User,
        f: impl FnOnce(&mut User) -> Result<std::result::Result<(), Error>>,
    ) -> Result<User> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let mut u = tx.user(&ctx.pool.id, &user.key)?.ok_or_else(Error::user_not_found)?;
        let verdict = f(&mut u)?;
        u.modified_ms = now;
        for other in claim_aliases(&*tx, &ctx.pool, &mut u, false)? {
            tx.put(&ctx.pool.id, Entity::User(other))?;
        }
        tx.put(&ctx.pool.id, Entity::User(u.clone()))?;
        tx.commit()?;
        verdict.map(|()| u)
    }

    /// ConfirmSignUp; returns the Session that signs the user in once (USER_AUTH). With
    /// PreventUserExistenceErrors an unknown user, and one already confirmed (where Cognito
    /// itself still says so), are answered as a wrong code.
    pub fn confirm_sign_up(&self, input: CodeInput) -> Result<String> {
        let started = Instant::now();
        let (ctx, user) = self.code_ctx(&input)?;
        let revealing = user.as_ref().filter(|u| u.status != UserStatus::Unconfirmed).map(|u| {
            Error::NotAuthorizedException(format!("User cannot be confirmed. Current status is {}", u.status.as_str()))
        });
        let user = match existence::route(&ctx, user, revealing)? {
            Route::Real(u) => u,
            Route::Simulated(u) => {
                return Err(self.simulated_mismatch(&ctx, &input.username, u.as_ref(), "ConfirmSignUp", started))
            }
        };
        let code = input.confirmation_code.as_deref().unwrap_or_default();
        let pool = ctx.pool.clone();
        let verified = auto_verified_destination(&ctx, &user).map(|d| d.attribute);
        let result = self.with_user(&ctx, &user, |u| {
            let verdict = self.check_code(&pool, u, "signup", code)?;
            if verdict.is_ok() {
                u.status = UserStatus::Confirmed;
                if let Some(attr) = verified {
                    u.attributes.insert(format!("{attr}_verified"), "true".into());
                }
            }
            Ok(verdict)
        });
        self.timed(&ctx.pool, "ConfirmSignUp", started, &result);
        let client = Some(ctx.client.id.as_str());
        let result = result.and_then(|u| {
            self.post_confirmation(&ctx.pool, "PostConfirmation_ConfirmSignUp", &u, client, &input.client_metadata)?;
            Ok(u)
        });
        let user = existence::hide_expired(password::prevents_existence_errors(&ctx), result)?;
        self.session_for(&ctx, &user.key, crate::auth::choice::SIGNED_UP)
    }

    /// ResendConfirmationCode. With PreventUserExistenceErrors an unknown user, one already
    /// confirmed (where Cognito itself still says so), a disabled one and one with nowhere to
    /// send a code get a simulated delivery.
    pub fn resend_confirmation_code(&self, input: CodeInput) -> Result<Delivery> {
        let started = Instant::now();
        let (ctx, user) = self.code_ctx(&input)?;
        let target = user
            .as_ref()
            .filter(|u| u.status == UserStatus::Unconfirmed && u.enabled)
            .and_then(|u| auto_verified_destination(&ctx, u).or_else(|| codes::destination(u, None, false)));
        let revealing = match (&user, &target) {
            (Some(u), _) if u.status != UserStatus::Unconfirmed => Some(Error::invalid("User is already confirmed.")),
            (Some(u), _) if !u.enabled => Some(Error::NotAuthorizedException("User is disabled.".into())),
            (Some(_), None) => Some(Error::invalid("No email or phone number to send a code to.")),
            _ => None,
        };
        let (user, d) = match (existence::route(&ctx, user, revealing)?, target) {
            (Route::Real(u), Some(d)) => (u, d),
            (Route::Real(u), None) | (Route::Simulated(Some(u)), _) => {
                return self.simulated_delivery(&ctx, &input.username, Some(&u), "ResendConfirmationCode", started)
            }
            (Route::Simulated(None), _) => {
                return self.simulated_delivery(&ctx, &input.username, None, "ResendConfirmationCode", started)
            }
        };
        let mut code = String::new();
        let pool = ctx.pool.clone();
        let stored = self.with_user(&ctx, &user, |u| {
            code = self.new_code(&pool, u, "signup", SIGNUP_CODE_MS)?;
            Ok(Ok(()))
        });
        let result = stored.and_then(|stored| {
            let caller = Caller { client_id: Some(ctx.client.id.as_str()), metadata: Some(&input.client_metadata) };
            self.send_code(&ctx.pool, &stored, &d, ("confirmation", "CustomMessage_ResendCode"), &code, caller)?;
            Ok(d)
        });
        self.timed(&ctx.pool, "ResendConfirmationCode", started, &result);
        result
    }
}
