//! The sealed values a sign-in hands out and later trusts: SRP handshake state (the
//! SECRET_BLOCK), challenge sessions, and refresh tokens. Each is a versioned JSON record
//! sealed with the pool's newest sealing key (AES-256-GCM, purpose-bound), so it needs no
//! row, cannot be forged or altered, and opens in any region holding the pool's keys.
//! A Session string is `<pool id>.<sealed, base64url>`: the pool id in clear lets the
//! operations that take only a Session (AssociateSoftwareToken, VerifySoftwareToken) find
//! the pool's keys and apply the region's rules before opening it.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use janus_crypto::seal;
use janus_types::{ClientId, PoolId, Random, Result, Sub, UserKey};

use crate::keys::LoadedKeys;

/// SRP handshake state, carried in SECRET_BLOCK.
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub struct SrpState {
    pub v: u8,
    pub pool: PoolId,
    pub client: ClientId,
    /// `None` for the decoy handshake of an unknown user.
    pub user: Option<UserKey>,
    pub username: String,
    pub a: String,
    pub b: String,
    pub big_b: String,
    pub exp_ms: i64,
    /// A CUSTOM_AUTH sign-in's password step: DefineAuthChallenge decides what follows it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub custom: bool,
    /// A device handshake (DEVICE_SRP_AUTH): the device key; for a password handshake, the
    /// `DEVICE_KEY` InitiateAuth presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

/// A challenge session (NEW_PASSWORD_REQUIRED, the MFA challenges, MFA_SETUP, CUSTOM_CHALLENGE).
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub struct Session {
    pub v: u8,
    pub challenge: String,
    pub pool: PoolId,
    pub client: ClientId,
    pub user: UserKey,
    pub exp_ms: i64,
    /// When it was issued (ms); for EMAIL_OTP and SMS_MFA, the mark that makes its code single-use.
    #[serde(default)]
    pub issued_ms: i64,
    /// EMAIL_OTP / SMS_MFA: the keyed digest of the code sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// MFA_SETUP: the TOTP secret associated (base32), until it is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// MFA_SETUP: VerifySoftwareToken succeeded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified: bool,
    /// CUSTOM_CHALLENGE: the challenges so far and the function's private parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<super::custom::CustomState>,
    /// EMAIL_OTP / SMS_OTP as the first factor (USER_AUTH), not as MFA.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first: bool,
    /// The `DEVICE_KEY` the sign-in presented, proven at DEVICE_PASSWORD_VERIFIER (the step
    /// before tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

impl Session {
    /// A session for `challenge` of `user`, issued at `now_ms` and valid for `valid_ms`.
    pub fn new(challenge: &str, ctx: &super::Ctx, user: &UserKey, now_ms: i64, valid_ms: i64) -> Self {
        Session {
            v: 2,
            challenge: challenge.to_owned(),
            pool: ctx.pool.id.clone(),
            client: ctx.client.id.clone(),
            user: user.clone(),
            exp_ms: now_ms + valid_ms,
            issued_ms: now_ms,
            code: None,
            secret: None,
            verified: false,
            custom: None,
            first: false,
            device: ctx.device.presented_key().map(str::to_owned),
        }
    }
}

/// How long a challenge session lasts: the app client's `AuthSessionValidity` (3–15
/// minutes), else Cognito's default of 3 minutes.
pub fn session_validity_ms(client: &janus_types::Client) -> i64 {
    let minutes = client.config.get("AuthSessionValidity").and_then(serde_json::Value::as_i64).unwrap_or(3);
    minutes.clamp(3, 15) * 60_000
}

/// What a refresh token carries: enough to refresh and to check revocation, anywhere.
#[allow(missing_docs)]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub v: u8,
    pub pool: PoolId,
    pub client: ClientId,
    pub user: UserKey,
    pub sub: Sub,
    pub origin_jti: String,
    pub auth_time: i64,
    pub iat: i64,
    pub exp: i64,
    /// This token's own id (UUIDv7, so it also says when it was issued, in ms).
    #[serde(default)]
    pub id: String,
    /// The OAuth scopes granted at sign-in through the hosted pages (space-separated);
    /// `None` for an API sign-in (`aws.cognito.signin.user.admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

fn seal_json<T: Serialize>(keys: &LoadedKeys, purpose: &str, value: &T, rng: &dyn Random) -> Result<Vec<u8>> {
    let plain = serde_json::to_vec(value).map_err(janus_types::Error::internal)?;
    seal::seal(keys.sealer()?, purpose, &plain, rng)
}

fn open_json<T: DeserializeOwned>(keys: &LoadedKeys, purpose: &str, sealed: &[u8]) -> Option<T> {
    let plain = seal::open(keys.opener(sealed)?, purpose, sealed)?;
    serde_json::from_slice(&plain).ok()
}

/// `value` sealed for `purpose`, as URL-safe base64 (tokens, codes, form fields).
pub(crate) fn seal_url<T: Serialize>(keys: &LoadedKeys, purpose: &str, value: &T, rng: &dyn Random) -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(seal_json(keys, purpose, value, rng)?))
}

/// Open a [`seal_url`] value; `None` when forged, altered or sealed for another purpose.
pub(crate) fn open_url<T: DeserializeOwned>(keys: &LoadedKeys, purpose: &str, sealed: &str) -> Option<T> {
    open_json(keys, purpose, &URL_SAFE_NO_PAD.decode(sealed).ok()?)
}

/// SECRET_BLOCK: standard base64, as clients base64-decode it into their signature.
pub fn seal_srp(keys: &LoadedKeys, s: &SrpState, rng: &dyn Random) -> Result<String> {
    Ok(STANDARD.encode(seal_json(keys, "srp", s, rng)?))
}

/// Open a SECRET_BLOCK; returns the state and the raw bytes the signature covers.
pub fn open_srp(keys: &LoadedKeys, block: &str) -> Option<(SrpState, Vec<u8>)> {
    let raw = STANDARD.decode(block).ok()?;
    Some((open_json(keys, "srp", &raw)?, raw))
}

/// A Session string.
pub fn seal_session(keys: &LoadedKeys, s: &Session, rng: &dyn Random) -> Result<String> {
    Ok(format!("{}.{}", s.pool, URL_SAFE_NO_PAD.encode(seal_json(keys, "session", s, rng)?)))
}

/// The pool a Session string names (unauthenticated: the sealed part must still be opened).
pub fn session_pool(session: &str) -> Option<PoolId> {
    PoolId::parse(session.split_once('.')?.0).ok()
}

/// Open a Session string (with or without its pool prefix).
pub fn open_session(keys: &LoadedKeys, session: &str) -> Option<Session> {
    let sealed = session.split_once('.').map_or(session, |(_, s)| s);
    let s: Session = open_json(keys, "session", &URL_SAFE_NO_PAD.decode(sealed).ok()?)?;
    session_pool(session).is_none_or(|p| p == s.pool).then_some(s)
}

/// A refresh token.
pub fn seal_refresh(keys: &LoadedKeys, c: &RefreshClaims, rng: &dyn Random) -> Result<String> {
    seal_url(keys, "refresh", c, rng)
}

/// Open a refresh token.
pub fn open_refresh(keys: &LoadedKeys, token: &str) -> Option<RefreshClaims> {
    open_url(keys, "refresh", token)
}
