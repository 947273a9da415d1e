//! `/oauth2/authorize`: an authorization request checked as RFC 6749 §4.1 and RFC 9700 say.
//! First the client and the redirect URI (exact match against CallbackURLs): until both are
//! known good, an error is shown to the user and never redirected ([`Refusal::Show`]). After
//! that, errors go back to the client's redirect URI ([`Refusal::Redirect`]). PKCE (S256)
//! is required for public clients. The checked request then travels through the login pages
//! sealed under the pool's key ([`AuthRequest`]), so no server-side state is kept.

use serde::{Deserialize, Serialize};

use janus_types::{Client, ClientId, Error, Pool, PoolId, Result};

use super::client as oc;
use super::{OAuthError, OAuthResult};
use crate::auth::sealed;
use crate::keys::LoadedKeys;
use crate::placement::Access;
use crate::Services;

/// How long a sign-in begun at `/oauth2/authorize` may take.
pub const REQUEST_TTL_MS: i64 = 30 * 60 * 1000;

/// The query of `/oauth2/authorize` (and `/login`), as received.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub identity_provider: Option<String>,
    pub idp_identifier: Option<String>,
}

/// A checked authorization request.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub v: u8,
    pub pool: PoolId,
    pub client: ClientId,
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The S256 code challenge, when the client sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    pub exp_ms: i64,
}

/// Why an authorization request is refused.
#[derive(Debug)]
pub enum Refusal {
    /// The client or redirect URI cannot be trusted: tell the user, do not redirect.
    Show(OAuthError),
    /// Send the error to the (registered) redirect URI, with `state`.
    Redirect {
        /// The registered redirect URI.
        redirect_uri: String,
        /// The client's `state`.
        state: Option<String>,
        /// The error.
        error: OAuthError,
    },
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Refusal::Show(e.into())
    }
}

fn is_pkce_challenge(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_after_redirect(client: &Client, p: &AuthorizeParams) -> OAuthResult<(Vec<String>, Option<String>)> {
    match p.response_type.as_deref() {
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::UnsupportedResponseType(format!("response_type {other} is not supported.")))
        }
        None => return Err(OAuthError::InvalidRequest("response_type is required.".into())),
    }
    if !oc::allows_flow(client, "code") {
        return Err(OAuthError::UnauthorizedClient("The client may not use the authorization code flow.".into()));
    }
    let idp = p.identity_provider.as_deref().unwrap_or("COGNITO");
    if p.idp_identifier.is_some() || idp != "COGNITO" || !oc::supports_provider(client, "COGNITO") {
        return Err(OAuthError::InvalidRequest("Only the user pool's own directory (COGNITO) signs users in.".into()));
    }
    let scopes = oc::grant_scopes(client, p.scope.as_deref())?;
    let challenge = match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
        (Some(c), Some("S256")) if is_pkce_challenge(c) => Some(c.to_owned()),
        (Some(_), Some("S256")) => return Err(OAuthError::InvalidRequest("code_challenge is malformed.".into())),
        (Some(_), _) => return Err(OAuthError::InvalidRequest("code_challenge_method must be S256.".into())),
        (None, Some(_)) => return Err(OAuthError::InvalidRequest("code_challenge is missing.".into())),
        (None, None) if !client.is_confidential() => {
            return Err(OAuthError::InvalidRequest(
                "PKCE (code_challenge, S256) is required for public clients.".into(),
            ))
        }
        (None, None) => None,
    };
    Ok((scopes, challenge))
}

impl Services {
    /// Check an authorization request against `pool` (the one the domain or path names).
    pub fn authorize(&self, pool: &Pool, p: &AuthorizeParams) -> std::result::Result<AuthRequest, Refusal> {
        self.check_access(pool, "Sign-in", Access::UserRead)?;
        let show = |m: &str| Refusal::Show(OAuthError::InvalidRequest(m.into()));
        let client_id = p.client_id.as_deref().ok_or_else(|| show("client_id is required."))?;
        let client_id = ClientId::parse(client_id).map_err(|_| show("client_id is not valid."))?;
        let client = self.store.read()?.client(&pool.id, &client_id)?.ok_or_else(|| show("Unknown client_id."))?;
        let redirect_uri = p.redirect_uri.as_deref().ok_or_else(|| show("redirect_uri is required."))?;
        if !oc::is_callback(&client, redirect_uri) {
            return Err(show("redirect_uri is not registered for this client (redirect_mismatch)."));
        }
        let (scopes, challenge) = check_after_redirect(&client, p).map_err(|error| Refusal::Redirect {
            redirect_uri: redirect_uri.to_owned(),
            state: p.state.clone(),
            error,
        })?;
        Ok(AuthRequest {
            v: 1,
            pool: pool.id.clone(),
            client: client.id,
            redirect_uri: redirect_uri.to_owned(),
            scope: scopes.join(" "),
            state: p.state.clone(),
            nonce: p.nonce.clone(),
            challenge,
            exp_ms: self.now_ms() + REQUEST_TTL_MS,
        })
    }

    /// Seal a checked request for the login forms.
    pub fn seal_request(&self, keys: &LoadedKeys, r: &AuthRequest) -> Result<String> {
        sealed::seal_url(keys, "oauth-request", r, &*self.rng)
    }

    /// Open a sealed request of `pool`; `None` when forged, foreign or expired.
    pub fn open_request(&self, keys: &LoadedKeys, pool: &PoolId, sealed: &str) -> Option<AuthRequest> {
        let r: AuthRequest = sealed::open_url(keys, "oauth-request", sealed)?;
        (r.pool == *pool && r.exp_ms >= self.now_ms()).then_some(r)
    }
}
