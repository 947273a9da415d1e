//! `/oauth2/userInfo` and `/logout`. userInfo answers the signed-in user's attributes for an
//! access token with the `openid` scope (Cognito's rule), filtered by the granted scopes:
//! `email`, `phone`, `profile`, or everything with `aws.cognito.signin.user.admin`. Values
//! are strings, as Cognito sends them. Logout redirects only to a registered LogoutURL
//! (exact match), so it is never an open redirect.

use serde_json::{Map, Value};

use janus_types::{ClientId, Pool};

use super::client as oc;
use super::{OAuthError, OAuthResult};
use crate::placement::Access;
use crate::Services;

fn wanted(scopes: &[&str], attr: &str) -> bool {
    let has = |s: &str| scopes.contains(&s);
    if has("aws.cognito.signin.user.admin") {
        return true;
    }
    match attr {
        "email" | "email_verified" => has("email"),
        "phone_number" | "phone_number_verified" => has("phone"),
        _ => has("profile"),
    }
}

impl Services {
    /// userInfo for a bearer access token presented at `pool`'s endpoint.
    pub fn userinfo(&self, pool: &Pool, token: &str) -> OAuthResult<Value> {
        self.check_access(pool, "userInfo", Access::UserRead)?;
        let (p, user, claims) = self.verify_access(token).map_err(|e| match e {
            e if e.is_internal() => OAuthError::Server(e),
            e => OAuthError::InvalidToken(e.to_string()),
        })?;
        if p.id != pool.id {
            return Err(OAuthError::InvalidToken("The token was not issued by this user pool.".into()));
        }
        let scope = claims["scope"].as_str().unwrap_or_default();
        let scopes: Vec<&str> = scope.split(' ').collect();
        if !scopes.contains(&"openid") && !scopes.contains(&"aws.cognito.signin.user.admin") {
            return Err(OAuthError::InvalidToken("The access token lacks the openid scope.".into()));
        }
        let mut out = Map::new();
        out.insert("sub".into(), Value::from(user.sub.as_str()));
        for (name, value) in &user.attributes {
            if !name.starts_with("dev:") && wanted(&scopes, name) {
                out.insert(name.clone(), Value::from(value.as_str()));
            }
        }
        out.insert("username".into(), Value::from(user.username));
        Ok(Value::Object(out))
    }

    /// Where `/logout` may send the browser: `logout_uri` when registered for the client.
    pub fn logout_target(&self, pool: &Pool, client_id: Option<&str>, logout_uri: Option<&str>) -> OAuthResult<String> {
        let bad = |m: &str| OAuthError::InvalidRequest(m.into());
        let id = client_id.and_then(|c| ClientId::parse(c).ok()).ok_or_else(|| bad("client_id is required."))?;
        let client = self.store.read()?.client(&pool.id, &id)?.ok_or_else(|| bad("Unknown client_id."))?;
        let uri = logout_uri.ok_or_else(|| bad("logout_uri is required."))?;
        if !oc::is_logout_url(&client, uri) {
            return Err(bad("logout_uri is not registered for this client."));
        }
        Ok(uri.to_owned())
    }
}
