//! Signing in: InitiateAuth / AdminInitiateAuth and RespondToAuthChallenge /
//! AdminRespondToAuthChallenge as one state machine. A flow proves who the user is
//! (`password`, `srp`, `refresh`), then [`Services::after_authentication`] decides what comes
//! next from the user's state: an error, a challenge (`new_password`, `mfa`, then `device`
//! when the sign-in presented a confirmed device), or tokens (`tokens`).
//! Challenge state travels sealed in the Session / SECRET_BLOCK (`sealed`), never in a row,
//! so any region holding the pool's keys can continue a sign-in.

pub mod choice;
pub mod client;
pub mod custom;
pub mod device;
pub mod lockout;
pub mod mfa;
pub mod new_password;
pub mod password;
pub mod refresh;
pub mod sealed;
pub mod srp;
pub mod tokens;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use janus_types::{Client, ClientId, Error, Pool, PoolId, Result, User, UserStatus};

use crate::keys::LoadedKeys;
use crate::Services;

pub use device::DeviceStep;
pub use tokens::Tokens;

/// InitiateAuth / AdminInitiateAuth input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Initiate {
    pub auth_flow: String,
    #[serde(default)]
    pub auth_parameters: BTreeMap<String, String>,
    pub client_id: ClientId,
    pub user_pool_id: Option<PoolId>,
    #[serde(default, deserialize_with = "janus_types::wire::null_as_default")]
    pub client_metadata: BTreeMap<String, String>,
    /// USER_AUTH after a passwordless ConfirmSignUp: its Session.
    #[serde(default)]
    pub session: Option<String>,
}

/// RespondToAuthChallenge / AdminRespondToAuthChallenge input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Respond {
    pub challenge_name: String,
    pub session: Option<String>,
    #[serde(default)]
    pub challenge_responses: BTreeMap<String, String>,
    pub client_id: ClientId,
    pub user_pool_id: Option<PoolId>,
    #[serde(default, deserialize_with = "janus_types::wire::null_as_default")]
    pub client_metadata: BTreeMap<String, String>,
}

/// What a sign-in step produces.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Signed in.
    Tokens(Tokens),
    /// Signed in through the hosted pages ([`Ctx::hosted`]): the caller issues an
    /// authorization code for this user instead of tokens.
    Authenticated {
        /// The user, as the last step saw it.
        user: Box<User>,
        /// When the user proved who they are (s).
        auth_time: i64,
    },
    /// Another step is needed.
    Challenge {
        /// The challenge name.
        name: String,
        /// The sealed session to send back.
        session: Option<String>,
        /// ChallengeParameters.
        parameters: BTreeMap<String, String>,
    },
}

/// The pool, app client and keys a sign-in runs against.
#[derive(Clone)]
pub struct Ctx {
    /// The pool.
    pub pool: Pool,
    /// The app client.
    pub client: Client,
    /// The pool's keys.
    pub keys: Arc<LoadedKeys>,
    /// True for the Admin* operations (server-side callers).
    pub admin: bool,
    /// True for a sign-in through the hosted login pages: it ends in
    /// [`Outcome::Authenticated`] (an authorization code follows), not in tokens.
    pub hosted: bool,
    /// InitiateAuth's `ClientMetadata`: PreAuthentication's `validationData`.
    pub validation_data: BTreeMap<String, String>,
    /// RespondToAuthChallenge's `ClientMetadata`: the `clientMetadata` of PostAuthentication
    /// and PreTokenGeneration (Cognito passes them InitiateAuth's no metadata).
    pub metadata: BTreeMap<String, String>,
    /// Why tokens would be issued at the end of this step (PreTokenGeneration's source).
    pub source: crate::triggers::tokens::TokenSource,
    /// The device this sign-in presented or proved.
    pub device: DeviceStep,
}

impl Ctx {
    /// A context for `pool` and `client`, no metadata.
    pub fn new(pool: Pool, client: Client, keys: Arc<LoadedKeys>, admin: bool) -> Self {
        Self {
            pool,
            client,
            keys,
            admin,
            hosted: false,
            validation_data: BTreeMap::new(),
            metadata: BTreeMap::new(),
            source: Default::default(),
            device: DeviceStep::None,
        }
    }
}

fn param<'a>(p: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    p.get(name).map(String::as_str).ok_or_else(|| Error::invalid(format!("Missing required parameter {name}")))
}

impl Services {
    /// Resolve the app client (and its pool) a sign-in names.
    pub fn auth_ctx(&self, client_id: &ClientId, pool_id: Option<&PoolId>, admin: bool) -> Result<Ctx> {
        let r = self.store.read()?;
        let (pool_of_client, client) = r
            .client_by_id(client_id)?
            .ok_or_else(|| Error::ResourceNotFoundException(format!("User pool client {client_id} does not exist.")))?;
        if let Some(p) = pool_id.filter(|p| **p != pool_of_client) {
            r.pool(p)?.ok_or_else(|| Error::pool_not_found(p.as_str()))?;
            return Err(Error::ResourceNotFoundException(format!("User pool client {client_id} does not exist.")));
        }
        let pool = r.pool(&pool_of_client)?.ok_or_else(|| Error::pool_not_found(pool_of_client.as_str()))?;
        let keys = self.pool_keys(&*r, &pool.id)?;
        Ok(Ctx::new(pool, client, keys, admin))
    }

    /// Resolve an app client of `pool`, already loaded (the OAuth endpoints and pages).
    pub fn auth_ctx_in(&self, pool: &Pool, client_id: &ClientId) -> Result<Ctx> {
        let r = self.store.read()?;
        let client =
            r.client_by_id(client_id)?.filter(|(p, _)| *p == pool.id).map(|(_, c)| c).ok_or_else(|| {
                Error::ResourceNotFoundException(format!("User pool client {client_id} does not exist."))
            })?;
        let keys = self.pool_keys(&*r, &pool.id)?;
        Ok(Ctx::new(pool.clone(), client, keys, false))
    }

    /// InitiateAuth and AdminInitiateAuth.
    pub fn initiate_auth(&self, input: Initiate, admin: bool) -> Result<Outcome> {
        let mut ctx = self.auth_ctx(&input.client_id, input.user_pool_id.as_ref(), admin)?;
        ctx.validation_data = input.client_metadata;
        let flow = input.auth_flow.as_str();
        client::check_flow(&ctx, flow)?;
        let p = &input.auth_parameters;
        ctx.device = DeviceStep::presented(p.get("DEVICE_KEY"));
        match flow {
            "USER_PASSWORD_AUTH" | "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
                let username = param(p, "USERNAME")?;
                client::check_secret_hash(&ctx.client, &[username], p.get("SECRET_HASH"))?;
                self.password_sign_in(&ctx, username, param(p, "PASSWORD")?)
            }
            "USER_SRP_AUTH" => {
                let username = param(p, "USERNAME")?;
                client::check_secret_hash(&ctx.client, &[username], p.get("SECRET_HASH"))?;
                self.srp_start(&ctx, username, param(p, "SRP_A")?)
            }
            "CUSTOM_AUTH" => {
                let username = param(p, "USERNAME")?;
                client::check_secret_hash(&ctx.client, &[username], p.get("SECRET_HASH"))?;
                let srp_a = p.get("SRP_A").filter(|_| p.get("CHALLENGE_NAME").is_some_and(|c| c == "SRP_A"));
                self.custom_start(&ctx, username, srp_a.map(String::as_str))
            }
            "USER_AUTH" => {
                let username = param(p, "USERNAME")?;
                client::check_secret_hash(&ctx.client, &[username], p.get("SECRET_HASH"))?;
                self.user_auth_start(&ctx, p, input.session.as_deref())
            }
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => {
                let refreshed = self.refresh(&ctx, param(p, "REFRESH_TOKEN")?, Some(p.get("SECRET_HASH")), false)?;
                Ok(Outcome::Tokens(refreshed))
            }
            other => Err(Error::invalid(format!("Unsupported auth flow: {other}"))),
        }
    }

    /// RespondToAuthChallenge and AdminRespondToAuthChallenge.
    pub fn respond_to_challenge(&self, input: Respond, admin: bool) -> Result<Outcome> {
        let mut ctx = self.auth_ctx(&input.client_id, input.user_pool_id.as_ref(), admin)?;
        ctx.metadata = input.client_metadata;
        ctx.device = self.device_of_step(&ctx, input.session.as_deref(), &input.challenge_responses);
        self.answer_challenge(&ctx, &input.challenge_name, input.session.as_deref(), &input.challenge_responses)
    }

    /// Answer challenge `name` within `ctx` (the API operations and the hosted pages).
    pub fn answer_challenge(
        &self,
        ctx: &Ctx,
        name: &str,
        session: Option<&str>,
        r: &BTreeMap<String, String>,
    ) -> Result<Outcome> {
        match name {
            "PASSWORD_VERIFIER" => self.srp_finish(ctx, r),
            "DEVICE_SRP_AUTH" => self.device_srp(ctx, session, r),
            name @ (choice::SELECT | "PASSWORD" | "PASSWORD_SRP") => self.select_answer(ctx, name, session, r),
            "DEVICE_PASSWORD_VERIFIER" => self.device_verify(ctx, r),
            "NEW_PASSWORD_REQUIRED" => self.new_password(ctx, session, r),
            "CUSTOM_CHALLENGE" => self.custom_answer(ctx, session, r),
            name @ ("SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP" | "SMS_OTP" | "SELECT_MFA_TYPE" | "MFA_SETUP") => {
                self.respond_mfa(ctx, name, session, r)
            }
            other => Err(Error::invalid(format!("Unsupported challenge: {other}"))),
        }
    }

    /// The user proved their password: refuse, challenge (a new password, then MFA), or
    /// issue tokens. The failure count is cleared only once no MFA challenge remains.
    pub fn after_authentication(&self, ctx: &Ctx, user: &User) -> Result<Outcome> {
        match user.status {
            UserStatus::Unconfirmed => Err(Error::UserNotConfirmedException("User is not confirmed.".into())),
            UserStatus::ResetRequired => {
                Err(Error::PasswordResetRequiredException("Password reset required for the user".into()))
            }
            UserStatus::ForceChangePassword => {
                self.record_success(&ctx.pool.id, user)?;
                self.new_password_challenge(ctx, user)
            }
            _ => match self.presented_device(ctx, user)? {
                // A remembered device stands in for MFA, once it proves itself.
                Some(device) if device.remembered => self.device_challenge(ctx, user, &device),
                _ => match self.mfa_challenge(ctx, user)? {
                    Some(challenge) => Ok(challenge),
                    None => self.finish_sign_in(ctx, user),
                },
            },
        }
    }

    /// The device a challenge answer continues with: the one an earlier step was presented
    /// (sealed in its Session), else the `DEVICE_KEY` the client sends.
    fn device_of_step(&self, ctx: &Ctx, session: Option<&str>, r: &BTreeMap<String, String>) -> DeviceStep {
        if crate::devices::config(&ctx.pool).is_none() {
            return DeviceStep::None; // no session opened twice where no device counts
        }
        let earlier = session
            .and_then(|s| sealed::open_session(&ctx.keys, s))
            .filter(|s| s.pool == ctx.pool.id && s.client == ctx.client.id)
            .and_then(|s| s.device);
        earlier.map_or_else(|| DeviceStep::presented(r.get("DEVICE_KEY")), DeviceStep::Presented)
    }
}
