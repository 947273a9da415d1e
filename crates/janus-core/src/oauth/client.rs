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

/// Check the redirect URLs of a client's configuration (CallbackURLs, LogoutURLs,
/// DefaultRedirectURI) as Cognito does: HTTPS, except `http://localhost` for testing; an app's
/// own scheme (`myapp://callback`) is allowed; no fragment; never a script or data URL. The
/// default redirect must be one of the callback URLs.
pub fn check_redirect_urls(config: &serde_json::Map<String, Value>) -> janus_types::Result<()> {
    for member in ["CallbackURLs", "LogoutURLs"] {
        for url in config.get(member).and_then(Value::as_array).into_iter().flatten() {
            check_redirect_url(member, url.as_str().unwrap_or_default())?;
        }
    }
    if let Some(default) = config.get("DefaultRedirectURI").and_then(Value::as_str) {
        check_redirect_url("DefaultRedirectURI", default)?;
        let callbacks = config.get("CallbackURLs").and_then(Value::as_array);
        if !callbacks.is_some_and(|c| c.iter().any(|u| u.as_str() == Some(default))) {
            return Err(janus_types::Error::invalid("DefaultRedirectURI must be one of the CallbackURLs."));
        }
    }
    Ok(())
}

fn check_redirect_url(member: &str, url: &str) -> janus_types::Result<()> {
    let refuse = |why: &str| janus_types::Error::invalid(format!("Invalid {member} {url:?}: {why}"));
    let (scheme, rest) = url.split_once(':').ok_or_else(|| refuse("it is not an absolute URL."))?;
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok || rest.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse("it is not an absolute URL."));
    }
    if url.contains('#') {
        return Err(refuse("a redirect URL cannot have a fragment."));
    }
    let host = rest.strip_prefix("//").map(|r| r.split(['/', '?']).next().unwrap_or_default());
    let host = host.map(|h| h.rsplit_once('@').map_or(h, |(_, h)| h));
    match scheme.to_ascii_lowercase().as_str() {
        "javascript" | "data" | "vbscript" | "file" | "blob" | "about" => Err(refuse("this scheme is not allowed.")),
        "https" if host.is_some_and(|h| !h.is_empty()) => Ok(()),
        "http" if host.is_some_and(is_localhost) => Ok(()),
        "http" => Err(refuse("HTTPS is required over HTTP except for http://localhost.")),
        "https" => Err(refuse("it has no host.")),
        _ => Ok(()), // an app's own scheme (RFC 8252)
    }
}

fn is_localhost(host_port: &str) -> bool {
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    matches!(host.to_ascii_lowercase().as_str(), "localhost" | "127.0.0.1" | "::1")
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
    match secret {
        Some(sent) if accepts_secret(client, sent) => Ok(()),
        None if !client.is_confidential() => Ok(()),
        _ => Err(OAuthError::InvalidClient("Client authentication failed.".into())),
    }
}

/// True when `sent` is one of the client's active secrets (during a rotation there are
/// two). Every secret is compared, so the time taken does not say which one matched.
pub fn accepts_secret(client: &Client, sent: &str) -> bool {
    client.secrets().fold(false, |hit, (ours, _)| same_secret(ours, sent) | hit)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn check(urls: &[&str]) -> Result<(), String> {
        let config = json!({"CallbackURLs": urls}).as_object().cloned().unwrap_or_default();
        super::check_redirect_urls(&config).map_err(|e| e.to_string())
    }

    /// Issue 13: script, data and plain-http URLs and fragments were stored as callbacks.
    #[test]
    fn redirect_urls_follow_cognitos_rules() {
        for ok in [
            "https://app.example.com/cb",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "myapp://callback",
            "com.example.app:/oauth2redirect",
            "https://app.example.com/cb?x=1",
        ] {
            assert_eq!(check(&[ok]), Ok(()), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript://%0aalert(1)",
            "data:text/html,<script>",
            "http://app.example.com/cb",
            "http://localhost.evil.com/cb",
            "https://app.example.com/cb#frag",
            "https:///nohost",
            "/relative",
            "",
            "https://app.example.com/a b",
        ] {
            assert!(check(&[bad]).is_err(), "{bad} was accepted");
        }
        let with_default =
            json!({"CallbackURLs": ["https://a.example/cb"], "DefaultRedirectURI": "https://b.example/cb"});
        assert!(super::check_redirect_urls(with_default.as_object().unwrap()).is_err());
    }
}
