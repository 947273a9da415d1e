//! Signing in with a confirmed device, as amazon-cognito-identity-js and Amplify do. A
//! remembered device stands in for MFA: when the sign-in presents the `DEVICE_KEY` of one,
//! the password step is followed by DEVICE_SRP_AUTH (the client's `SRP_A`) and
//! DEVICE_PASSWORD_VERIFIER (a proof over the device's secret, with the device group key as
//! the SRP "pool name" and the device key as the user), then tokens. A confirmed device that
//! is not remembered answers MFA like a new one, and its tokens carry its key; it is not
//! asked to prove itself after MFA, which is the stronger proof (and identity-js would
//! answer such a DEVICE_SRP_AUTH with the spent MFA session). An unknown `DEVICE_KEY` counts
//! as none (the sign-in hands out a new one) rather than failing the sign-in.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::collections::BTreeMap;

use janus_crypto::srp::Verifier;
use janus_types::{Device, Error, Result, User};

use super::sealed::{self, Session, SrpState};
use super::{client, lockout, param, Ctx, Outcome};
use crate::mfa::token::invalid_session;
use crate::Services;

const HANDSHAKE_MS: i64 = 5 * 60 * 1000;
const DEVICE_SRP: &str = "DEVICE_SRP_AUTH";
const DEVICE_VERIFIER: &str = "DEVICE_PASSWORD_VERIFIER";

/// The device of a sign-in, as far as it has been proven.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DeviceStep {
    /// No device key was sent (or the pool does not track devices).
    #[default]
    None,
    /// The client sent this `DEVICE_KEY`; nothing is proven yet.
    Presented(String),
    /// DEVICE_PASSWORD_VERIFIER proved this device.
    Verified(String),
}

impl DeviceStep {
    /// The presented, not yet proven, device key.
    pub fn presented_key(&self) -> Option<&str> {
        match self {
            DeviceStep::Presented(k) => Some(k),
            _ => None,
        }
    }

    /// The proven device key.
    pub fn verified(&self) -> Option<&str> {
        match self {
            DeviceStep::Verified(k) => Some(k),
            _ => None,
        }
    }

    /// A `DEVICE_KEY` parameter, when the client sent one.
    pub fn presented(key: Option<&String>) -> Self {
        key.filter(|k| !k.is_empty()).map_or(DeviceStep::None, |k| DeviceStep::Presented(k.clone()))
    }
}

fn wrong_device() -> Error {
    Error::NotAuthorizedException("Incorrect username or password.".into())
}

impl Services {
    /// The confirmed device of `user` this sign-in presented and has yet to prove.
    pub(crate) fn presented_device(&self, ctx: &Ctx, user: &User) -> Result<Option<Device>> {
        let Some(key) = ctx.device.presented_key() else { return Ok(None) };
        if ctx.hosted || crate::devices::config(&ctx.pool).is_none() {
            return Ok(None);
        }
        self.store.read()?.device(&ctx.pool.id, &user.key, key)
    }

    /// The DEVICE_SRP_AUTH challenge of a remembered device, in place of MFA.
    pub(crate) fn device_challenge(&self, ctx: &Ctx, user: &User, device: &Device) -> Result<Outcome> {
        let s = Session::new(DEVICE_SRP, ctx, &user.key, self.now_ms(), sealed::session_validity_ms(&ctx.client));
        debug_assert_eq!(s.device.as_deref(), Some(device.key.as_str()));
        let session = Some(sealed::seal_session(&ctx.keys, &s, &*self.rng)?);
        let parameters = BTreeMap::from([("USERNAME".to_owned(), user.username.clone())]);
        Ok(Outcome::Challenge { name: DEVICE_SRP.into(), session, parameters })
    }

    fn device_user(&self, ctx: &Ctx, s_user: &janus_types::UserKey, key: &str) -> Result<(User, Device)> {
        let r = self.store.read()?;
        let user = r.user(&ctx.pool.id, s_user)?.ok_or_else(invalid_session)?;
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        lockout::check(&user, self.now_ms())?;
        let device = r.device(&ctx.pool.id, &user.key, key)?.ok_or_else(wrong_device)?;
        Ok((user, device))
    }

    /// RespondToAuthChallenge with DEVICE_SRP_AUTH: answer DEVICE_PASSWORD_VERIFIER.
    pub(crate) fn device_srp(&self, ctx: &Ctx, session: Option<&str>, r: &BTreeMap<String, String>) -> Result<Outcome> {
        let s = self.open_challenge(ctx, session, DEVICE_SRP)?;
        let key = s.device.as_deref().ok_or_else(invalid_session)?;
        if param(r, "DEVICE_KEY")? != key {
            return Err(wrong_device());
        }
        let a_hex = param(r, "SRP_A")?;
        self.srp.check_a(a_hex)?;
        let (user, device) = self.device_user(ctx, &s.user, key)?;
        let username = r.get("USERNAME").map_or(user.username.as_str(), String::as_str);
        client::check_secret_hash(&ctx.client, &[username, &user.username], r.get("SECRET_HASH"))?;
        let v = Verifier { salt: device.salt.clone(), verifier: device.verifier.clone() };
        let eph = self.srp.start(&v, &*self.rng)?;
        let state = SrpState {
            v: 1,
            pool: ctx.pool.id.clone(),
            client: ctx.client.id.clone(),
            user: Some(user.key.clone()),
            username: user.username.clone(),
            a: a_hex.to_owned(),
            b: eph.b,
            big_b: eph.big_b.clone(),
            exp_ms: self.now_ms() + HANDSHAKE_MS,
            custom: false,
            device: Some(device.key.clone()),
        };
        let block = sealed::seal_srp(&ctx.keys, &state, &*self.rng)?;
        let parameters = BTreeMap::from([
            ("SALT".to_owned(), v.salt),
            ("SECRET_BLOCK".to_owned(), block.clone()),
            ("SRP_B".to_owned(), eph.big_b),
            ("USERNAME".to_owned(), user.username.clone()),
        ]);
        Ok(Outcome::Challenge { name: DEVICE_VERIFIER.into(), session: Some(block), parameters })
    }

    /// RespondToAuthChallenge with DEVICE_PASSWORD_VERIFIER: check the device's proof, then
    /// issue tokens bound to the device.
    pub(crate) fn device_verify(&self, ctx: &Ctx, r: &BTreeMap<String, String>) -> Result<Outcome> {
        let block = param(r, "PASSWORD_CLAIM_SECRET_BLOCK")?;
        let timestamp = param(r, "TIMESTAMP")?;
        let claim = B64.decode(param(r, "PASSWORD_CLAIM_SIGNATURE")?).map_err(|_| wrong_device())?;
        let (state, raw) = sealed::open_srp(&ctx.keys, block)
            .filter(|(s, _)| s.pool == ctx.pool.id && s.client == ctx.client.id)
            .ok_or_else(invalid_session)?;
        if state.exp_ms < self.now_ms() {
            return Err(Error::NotAuthorizedException("Invalid session for the user, session is expired.".into()));
        }
        let (Some(user_key), Some(key)) = (&state.user, &state.device) else { return Err(invalid_session()) };
        if param(r, "DEVICE_KEY")? != key {
            return Err(wrong_device());
        }
        let (user, device) = self.device_user(ctx, user_key, key)?;
        let username = r.get("USERNAME").map_or(user.username.as_str(), String::as_str);
        client::check_secret_hash(&ctx.client, &[username, &user.username], r.get("SECRET_HASH"))?;
        let v = Verifier { salt: device.salt.clone(), verifier: device.verifier.clone() };
        let eph = janus_crypto::srp::ServerEphemeral { b: state.b.clone(), big_b: state.big_b.clone() };
        if !self.srp.verify_claim(&v, &eph, &state.a, &device.group, &device.key, &raw, timestamp, &claim)? {
            self.record_failure(&ctx.pool.id, &user)?;
            return Err(wrong_device());
        }
        if self.is_primary(&ctx.pool) {
            let now = self.now_ms();
            self.modify_device(&ctx.pool.id, &user.key, key, |d| d.last_auth_ms = now)?;
        }
        let mut ctx = ctx.clone();
        ctx.device = DeviceStep::Verified(key.clone());
        self.finish_sign_in(&ctx, &user)
    }
}
