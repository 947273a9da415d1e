//! OAuth 2.0 and OpenID Connect behind the hosted endpoints: the app client's OAuth settings
//! (`client`), authorization requests (`authorize`), authorization codes (`code`, sealed and
//! self-contained so they redeem in any region) and their single use (`redeemed`), the token
//! endpoint's grants (`grants`: authorization_code with PKCE, refresh_token,
//! client_credentials), userinfo and logout (`userinfo`), and the hosted sign-in glue over
//! the sign-in state machine (`login`). Errors are [`OAuthError`], which the HTTP surface
//! turns into RFC 6749 `error` / `error_description` — never a Cognito error.

pub mod authorize;
pub mod client;
pub mod code;
pub mod grants;
pub mod login;
pub mod redeemed;
pub mod userinfo;

use janus_types::Error;

/// An OAuth error, named as RFC 6749 (and RFC 6750/7009 for userinfo and revocation) name them.
#[derive(Debug)]
pub enum OAuthError {
    /// `invalid_request`.
    InvalidRequest(String),
    /// `invalid_client`: client authentication failed (HTTP 401).
    InvalidClient(String),
    /// `invalid_grant`: a bad, expired, reused or foreign code, verifier or refresh token.
    InvalidGrant(String),
    /// `unauthorized_client`: the client may not use this flow or grant.
    UnauthorizedClient(String),
    /// `unsupported_grant_type`.
    UnsupportedGrantType(String),
    /// `unsupported_response_type`.
    UnsupportedResponseType(String),
    /// `invalid_scope`.
    InvalidScope(String),
    /// `unsupported_token_type` (revocation).
    UnsupportedTokenType(String),
    /// `invalid_token` (userinfo, RFC 6750; HTTP 401).
    InvalidToken(String),
    /// `server_error`: the cause goes to the log, never to the caller.
    Server(Error),
}

impl OAuthError {
    /// The `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::UnsupportedResponseType(_) => "unsupported_response_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::UnsupportedTokenType(_) => "unsupported_token_type",
            OAuthError::InvalidToken(_) => "invalid_token",
            OAuthError::Server(_) => "server_error",
        }
    }

    /// The `error_description` (never a secret: messages name no code, token or secret).
    pub fn description(&self) -> String {
        match self {
            OAuthError::Server(_) => "An internal error occurred.".into(),
            OAuthError::InvalidRequest(m)
            | OAuthError::InvalidClient(m)
            | OAuthError::InvalidGrant(m)
            | OAuthError::UnauthorizedClient(m)
            | OAuthError::UnsupportedGrantType(m)
            | OAuthError::UnsupportedResponseType(m)
            | OAuthError::InvalidScope(m)
            | OAuthError::UnsupportedTokenType(m)
            | OAuthError::InvalidToken(m) => m.clone(),
        }
    }

    /// True for a server-side fault.
    pub fn is_internal(&self) -> bool {
        matches!(self, OAuthError::Server(_))
    }

    /// A domain error met while redeeming a grant: the caller's fault is `invalid_grant`.
    pub fn grant(e: Error) -> Self {
        if e.is_internal() {
            OAuthError::Server(e)
        } else {
            OAuthError::InvalidGrant(e.to_string())
        }
    }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        match e {
            Error::Internal(_) | Error::Unavailable(_) => OAuthError::Server(e),
            Error::OperationNotEnabledException(m) => OAuthError::InvalidRequest(m),
            other => OAuthError::InvalidRequest(other.to_string()),
        }
    }
}

/// Result alias of this module.
pub type OAuthResult<T> = std::result::Result<T, OAuthError>;
