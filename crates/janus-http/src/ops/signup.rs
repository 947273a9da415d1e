//! Self-service operations (unsigned, as the SDKs send them): SignUp, ConfirmSignUp,
//! ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword,
//! GetUserAttributeVerificationCode, VerifyUserAttribute.

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::signup::{CodeInput, SignUp};
use janus_core::Services;
use janus_types::{Error, UserStatus};

use super::{empty, input, public, Operation};
use crate::render;

pub const OPS: &[Operation] = &[
    public("SignUp", sign_up),
    public("ConfirmSignUp", confirm_sign_up),
    public("ResendConfirmationCode", resend_confirmation_code),
    public("ForgotPassword", forgot_password),
    public("ConfirmForgotPassword", confirm_forgot_password),
    public("GetUserAttributeVerificationCode", get_user_attribute_verification_code),
    public("VerifyUserAttribute", verify_user_attribute),
];

fn sign_up(s: &Services, v: Value) -> Result<Value, Error> {
    let done = s.sign_up(input::<SignUp>(v)?)?;
    let mut out = json!({
        "UserConfirmed": done.user.status == UserStatus::Confirmed,
        "UserSub": done.user.sub,
        "Session": done.session,
    });
    if let Some(d) = &done.delivery {
        out["CodeDeliveryDetails"] = render::delivery(d);
    }
    Ok(out)
}

fn confirm_sign_up(s: &Services, v: Value) -> Result<Value, Error> {
    Ok(json!({ "Session": s.confirm_sign_up(input::<CodeInput>(v)?)? }))
}

fn resend_confirmation_code(s: &Services, v: Value) -> Result<Value, Error> {
    let d = s.resend_confirmation_code(input::<CodeInput>(v)?)?;
    Ok(json!({ "CodeDeliveryDetails": render::delivery(&d) }))
}

fn forgot_password(s: &Services, v: Value) -> Result<Value, Error> {
    let d = s.forgot_password(input::<CodeInput>(v)?)?;
    Ok(json!({ "CodeDeliveryDetails": render::delivery(&d) }))
}

fn confirm_forgot_password(s: &Services, v: Value) -> Result<Value, Error> {
    s.confirm_forgot_password(input::<CodeInput>(v)?)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeCode {
    access_token: String,
    attribute_name: String,
    code: Option<String>,
}

fn get_user_attribute_verification_code(s: &Services, v: Value) -> Result<Value, Error> {
    let metadata = super::client_metadata(&v)?;
    let r: AttributeCode = input(v)?;
    let d = s.attribute_verification_code(&r.access_token, &r.attribute_name, &metadata)?;
    Ok(json!({ "CodeDeliveryDetails": render::delivery(&d) }))
}

fn verify_user_attribute(s: &Services, v: Value) -> Result<Value, Error> {
    let r: AttributeCode = input(v)?;
    s.verify_attribute(&r.access_token, &r.attribute_name, r.code.as_deref().unwrap_or_default())?;
    empty()
}
