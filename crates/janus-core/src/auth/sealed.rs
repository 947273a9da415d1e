//! The sealed values a sign-in hands out and later trusts: SRP handshake state (the
//! SECRET_BLOCK), challenge sessions, and refresh tokens. Each is a versioned JSON record
//! sealed with the pool's newest sealing key (AES-256-GCM, purpose-bound), so it needs no
//! row, cannot be forged or altered, and opens in any region holding the pool's keys.

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
}

/// A challenge session (NEW_PASSWORD_REQUIRED, …).
#[allow(missing_docs)]
#[derive(Debug, Serialize, Deserialize)]
pub struct Session {
    pub v: u8,
    pub challenge: String,
    pub pool: PoolId,
    pub client: ClientId,
    pub user: UserKey,
    pub exp_ms: i64,
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
    Ok(URL_SAFE_NO_PAD.encode(seal_json(keys, "session", s, rng)?))
}

/// Open a Session string.
pub fn open_session(keys: &LoadedKeys, session: &str) -> Option<Session> {
    open_json(keys, "session", &URL_SAFE_NO_PAD.decode(session).ok()?)
}

/// A refresh token.
pub fn seal_refresh(keys: &LoadedKeys, c: &RefreshClaims, rng: &dyn Random) -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(seal_json(keys, "refresh", c, rng)?))
}

/// Open a refresh token.
pub fn open_refresh(keys: &LoadedKeys, token: &str) -> Option<RefreshClaims> {
    open_json(keys, "refresh", &URL_SAFE_NO_PAD.decode(token).ok()?)
}
