//! Sign-in operations: InitiateAuth, RespondToAuthChallenge (unsigned, as the SDKs send
//! them), AdminInitiateAuth, AdminRespondToAuthChallenge (signed), GetTokensFromRefreshToken
//! and RevokeToken (unsigned; the client proves itself with its secret).

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::auth::{Initiate, Outcome, Respond, Tokens};
use janus_core::Services;
use janus_types::{ClientId, Error};

use super::{admin_user_read, empty, input, public_read, Operation};

pub const OPS: &[Operation] = &[
    public_read("InitiateAuth", initiate_auth),
    public_read("RespondToAuthChallenge", respond_to_auth_challenge),
    admin_user_read("AdminInitiateAuth", admin_initiate_auth),
    admin_user_read("AdminRespondToAuthChallenge", admin_respond_to_auth_challenge),
    public_read("GetTokensFromRefreshToken", get_tokens_from_refresh_token),
    public_read("RevokeToken", revoke_token),
];

/// `AuthenticationResultType`.
pub fn authentication_result(t: &Tokens) -> Value {
    let mut r = json!({
        "AccessToken": t.access,
        "ExpiresIn": t.expires_in,
        "TokenType": "Bearer",
        "IdToken": t.id,
    });
    if let Some(refresh) = &t.refresh {
        r["RefreshToken"] = json!(refresh);
    }
    if let Some(d) = &t.new_device {
        r["NewDeviceMetadata"] = json!({"DeviceKey": d.key, "DeviceGroupKey": d.group});
    }
    r
}

fn outcome(o: Outcome) -> Result<Value, Error> {
    Ok(match o {
        Outcome::Tokens(t) => json!({"ChallengeParameters": {}, "AuthenticationResult": authentication_result(&t)}),
        Outcome::Authenticated { .. } => {
            return Err(Error::internal(anyhow::anyhow!("a hosted-page outcome reached the API")));
        }
        Outcome::Challenge { name, session, mut parameters } => {
            let available = parameters.remove(janus_core::auth::choice::AVAILABLE);
            let mut out = json!({"ChallengeName": name, "ChallengeParameters": parameters});
            if let Some(list) = available {
                out["AvailableChallenges"] = serde_json::from_str(&list).map_err(Error::internal)?;
            }
            if let Some(s) = session {
                out["Session"] = json!(s);
            }
            out
        }
    })
}

fn initiate_auth(s: &Services, v: Value) -> Result<Value, Error> {
    let mut i: Initiate = input(v)?;
    i.user_pool_id = None;
    outcome(s.initiate_auth(i, false)?)
}

fn respond_to_auth_challenge(s: &Services, v: Value) -> Result<Value, Error> {
    let mut r: Respond = input(v)?;
    r.user_pool_id = None;
    outcome(s.respond_to_challenge(r, false)?)
}

fn admin_initiate_auth(s: &Services, v: Value) -> Result<Value, Error> {
    outcome(s.initiate_auth(input(v)?, true)?)
}

fn admin_respond_to_auth_challenge(s: &Services, v: Value) -> Result<Value, Error> {
    outcome(s.respond_to_challenge(input(v)?, true)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FromRefresh {
    refresh_token: String,
    client_id: ClientId,
    client_secret: Option<String>,
    device_key: Option<String>,
}

fn get_tokens_from_refresh_token(s: &Services, v: Value) -> Result<Value, Error> {
    let r: FromRefresh = input(v)?;
    let mut ctx = s.auth_ctx(&r.client_id, None, false)?;
    ctx.device = janus_core::auth::DeviceStep::presented(r.device_key.as_ref());
    let t = s.tokens_from_refresh(&ctx, &r.refresh_token, r.client_secret.as_deref())?;
    Ok(json!({ "AuthenticationResult": authentication_result(&t) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Revoke {
    token: String,
    client_id: ClientId,
    client_secret: Option<String>,
}

fn revoke_token(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Revoke = input(v)?;
    s.revoke_token(&r.token, &r.client_id, r.client_secret.as_deref())?;
    empty()
}
