//! An app client's OAuth settings, read from its `UserPoolClientType` members:
//! AllowedOAuthFlowsUserPoolClient, AllowedOAuthFlows, AllowedOAuthScopes, CallbackURLs,
//! LogoutURLs, SupportedIdentityProviders; and client authentication at the token endpoint
//! (client_secret_basic or client_secret_post, compared in constant time).

use serde_json::Value;

use janus_types::Client;

use super::{OAuthError, OAuthResult};

fn list<'a>(client: &'a Client, member: &str) -> impl Iterator<Item = &'a str> {
    client.config.get(member).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
}

/// True when the client may use OAuth `flow` (`code`, `implicit`, `client_credentials`).
pub fn allows_flow(client: &Client, flow: &str) -> bool {
    client.config.get("AllowedOAuthFlowsUserPoolClient").and_then(Value::as_bool) == Some(true)
        && list(client, "AllowedOAuthFlows").any(|f| f == flow)
}

/// The scopes the client may request.
pub fn allowed_scopes(client: &Client) -> Vec<String> {
    list(client, "AllowedOAuthScopes").map(str::to_owned).collect()
}

/// True when `uri` is exactly one of the client's CallbackURLs (no prefix or case games).
pub fn is_callback(client: &Client, uri: &str) -> bool {
    list(client, "CallbackURLs").any(|u| u == uri)
}

/// True when `uri` is exactly one of the client's LogoutURLs.
pub fn is_logout_url(client: &Client, uri: &str) -> bool {
    list(client, "LogoutURLs").any(|u| u == uri)
}

/// True when the client signs users in with the pool's own directory (`COGNITO`) or `idp`.
pub fn supports_provider(client: &Client, idp: &str) -> bool {
    list(client, "SupportedIdentityProviders").any(|p| p == idp)
}

/// Requested scopes (space-separated), checked against the client's allowed ones; none
/// requested means all allowed ones (Cognito's rule).
pub fn grant_scopes(client: &Client, requested: Option<&str>) -> OAuthResult<Vec<String>> {
    let allowed = allowed_scopes(client);
    let Some(req) = requested.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(allowed) };
    let mut out: Vec<String> = Vec::new();
    for s in req.split(' ').filter(|s| !s.is_empty()) {
        if !allowed.iter().any(|a| a == s) {
            return Err(OAuthError::InvalidScope(format!("Scope {s} is not allowed for this client.")));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// Compare secrets in constant time (for equal lengths).
pub fn same_secret(a: &str, b: &str) -> bool {
    janus_crypto::same_secret(a.as_bytes(), b.as_bytes())
}

/// Authenticate a client at the token or revocation endpoint: a confidential client must send
/// its secret; a public client must send none.
pub fn authenticate(client: &Client, secret: Option<&str>) -> OAuthResult<()> {
    match (&client.secret, secret) {
        (Some(ours), Some(sent)) if same_secret(ours, sent) => Ok(()),
        (None, None) => Ok(()),
        _ => Err(OAuthError::InvalidClient("Client authentication failed.".into())),
    }
}
