//! MFA settings: SetUserPoolMfaConfig and GetUserPoolMfaConfig (administrator),
//! AssociateSoftwareToken, VerifySoftwareToken and SetUserMFAPreference (unsigned, with an
//! access token or a sign-in Session), AdminSetUserMFAPreference and AdminDeleteSoftwareToken.
//! Enrolling and changing preferences write user data: primary region only. The challenges
//! themselves are answered through RespondToAuthChallenge (`auth.rs`).

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::mfa::{self, Preferences, SetPoolMfa};
use janus_core::Services;
use janus_types::{Error, PoolId};

use super::{admin, admin_read, empty, input, public, Operation};

pub const OPS: &[Operation] = &[
    admin("SetUserPoolMfaConfig", set_user_pool_mfa_config),
    admin_read("GetUserPoolMfaConfig", get_user_pool_mfa_config),
    public("AssociateSoftwareToken", associate_software_token),
    public("VerifySoftwareToken", verify_software_token),
    public("SetUserMFAPreference", set_user_mfa_preference),
    admin("AdminSetUserMFAPreference", admin_set_user_mfa_preference),
    admin("AdminDeleteSoftwareToken", admin_delete_software_token),
];

fn set_user_pool_mfa_config(s: &Services, v: Value) -> Result<Value, Error> {
    Ok(mfa::pool_mfa_view(&s.set_pool_mfa(input::<SetPoolMfa>(v)?)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolRef {
    user_pool_id: PoolId,
}

fn get_user_pool_mfa_config(s: &Services, v: Value) -> Result<Value, Error> {
    let r: PoolRef = input(v)?;
    Ok(mfa::pool_mfa_view(&s.load_pool(&r.user_pool_id)?))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Associate {
    access_token: Option<String>,
    session: Option<String>,
}

fn associate_software_token(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Associate = input(v)?;
    let a = s.associate_software_token(r.access_token.as_deref(), r.session.as_deref())?;
    let mut out = json!({"SecretCode": a.secret_code});
    if let Some(session) = a.session {
        out["Session"] = json!(session);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Verify {
    access_token: Option<String>,
    session: Option<String>,
    user_code: String,
    friendly_device_name: Option<String>,
}

fn verify_software_token(s: &Services, v: Value) -> Result<Value, Error> {
    let r: Verify = input(v)?;
    let done = s.verify_software_token(
        r.access_token.as_deref(),
        r.session.as_deref(),
        &r.user_code,
        r.friendly_device_name.as_deref(),
    )?;
    let mut out = json!({"Status": "SUCCESS"});
    if let Some(session) = done.session {
        out["Session"] = json!(session);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MyPreference {
    access_token: String,
    #[serde(flatten)]
    preferences: Preferences,
}

fn set_user_mfa_preference(s: &Services, v: Value) -> Result<Value, Error> {
    let r: MyPreference = input(v)?;
    s.set_my_mfa_preference(&r.access_token, &r.preferences)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserPreference {
    user_pool_id: PoolId,
    username: String,
    #[serde(flatten)]
    preferences: Preferences,
}

fn admin_set_user_mfa_preference(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserPreference = input(v)?;
    s.admin_set_mfa_preference(&r.user_pool_id, &r.username, &r.preferences)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRef {
    user_pool_id: PoolId,
    username: String,
}

fn admin_delete_software_token(s: &Services, v: Value) -> Result<Value, Error> {
    let r: UserRef = input(v)?;
    s.admin_delete_software_token(&r.user_pool_id, &r.username)?;
    empty()
}
