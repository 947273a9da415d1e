//! App-client rules for signing in: which auth flows the client allows (ExplicitAuthFlows,
//! with Cognito's defaults and legacy names) and the SECRET_HASH a client with a secret
//! must send: base64(HMAC-SHA256(secret, username + client id)).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use janus_types::{Client, Error, Result};

use super::Ctx;

fn flows(client: &Client) -> Vec<String> {
    match client.config.get("ExplicitAuthFlows").and_then(|v| v.as_array()) {
        Some(list) if !list.is_empty() => list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => vec!["ALLOW_USER_SRP_AUTH".into(), "ALLOW_REFRESH_TOKEN_AUTH".into(), "ALLOW_CUSTOM_AUTH".into()],
    }
}

/// Refuse a flow the app client does not allow.
pub fn check_flow(ctx: &Ctx, flow: &str) -> Result<()> {
    let allowed = flows(&ctx.client);
    let has = |f: &str| allowed.iter().any(|a| a == f);
    let legacy_only = !allowed.iter().any(|a| a.starts_with("ALLOW_"));
    let ok = match flow {
        "USER_PASSWORD_AUTH" => has("ALLOW_USER_PASSWORD_AUTH") || has("USER_PASSWORD_AUTH"),
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
            ctx.admin && (has("ALLOW_ADMIN_USER_PASSWORD_AUTH") || has("ADMIN_NO_SRP_AUTH"))
        }
        "USER_SRP_AUTH" => has("ALLOW_USER_SRP_AUTH") || legacy_only,
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => has("ALLOW_REFRESH_TOKEN_AUTH") || legacy_only,
        "CUSTOM_AUTH" => has("ALLOW_CUSTOM_AUTH") || has("CUSTOM_AUTH_FLOW_ONLY"),
        "USER_AUTH" => has("ALLOW_USER_AUTH"),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("{flow} flow not enabled for this client")))
    }
}

/// `SECRET_HASH` for `username` and `client`.
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// For a client with a secret, require a SECRET_HASH made with one of `usernames`.
pub fn check_secret_hash(client: &Client, usernames: &[&str], sent: Option<&String>) -> Result<()> {
    if !client.is_confidential() {
        return Ok(());
    }
    let fail = || Error::NotAuthorizedException(format!("Unable to verify secret hash for client {}", client.id));
    let sent = B64.decode(sent.ok_or_else(fail)?).map_err(|_| fail())?;
    for (secret, _) in client.secrets() {
        for name in usernames {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
            mac.update(name.as_bytes());
            mac.update(client.id.as_str().as_bytes());
            if mac.verify_slice(&sent).is_ok() {
                return Ok(());
            }
        }
    }
    Err(fail())
}
