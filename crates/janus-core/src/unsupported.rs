//! Settings botocore models that Janus does not act on yet. Storing one and carrying on would
//! tell the caller it works — a trigger that never runs, a device never remembered — so each
//! is refused with InvalidParameterException naming it, and goes from here when what it
//! configures is built. Values that configure nothing (an empty `LambdaConfig`, advanced
//! security `OFF`, `PASSWORD` as the only first factor) pass: they are what DescribeUserPool
//! answers, and tools send back what they read. The inventory of every pool and client setting
//! and what Janus does with it is `conformance/test_settings.py`.

use serde_json::{Map, Value};

use janus_types::{Error, Result};

use crate::pools::MutableSettings;

fn refuse(setting: &str, why: &str) -> Error {
    Error::invalid(format!("{setting} is not supported by Janus yet: {why}."))
}

fn non_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Object(m)) => m.values().any(|v| non_empty(Some(v))),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

/// `LambdaConfig`: the triggers Janus invokes, each a Lambda function's ARN (the versioned
/// ones `{LambdaVersion, LambdaArn}`), and `KMSKeyID`, a KMS key's ARN, which a custom sender
/// needs; any other member is refused by name.
fn check_lambda_config(config: Option<&Value>) -> Result<()> {
    let Some(Value::Object(c)) = config else { return Ok(()) };
    for (k, v) in c.iter().filter(|(_, v)| non_empty(Some(v))) {
        if !crate::triggers::INVOKED.contains(&k.as_str()) {
            return Err(refuse(&format!("LambdaConfig.{k}"), "this trigger is not invoked"));
        }
        if k == "KMSKeyID" {
            if v.as_str().map(janus_crypto::keys::KeyArn::parse).is_none_or(|a| a.is_err()) {
                return Err(Error::invalid("LambdaConfig.KMSKeyID must name a KMS key by its ARN."));
            }
            continue;
        }
        let versioned = crate::triggers::VERSIONED.contains(&k.as_str());
        if versioned
            && k != "PreTokenGenerationConfig"
            && v.get("LambdaVersion").and_then(Value::as_str) != Some("V1_0")
        {
            return Err(Error::invalid(format!("LambdaConfig.{k}.LambdaVersion must be V1_0.")));
        }
        let arn = if versioned { v.get("LambdaArn") } else { Some(v) };
        if arn.and_then(Value::as_str).and_then(crate::triggers::invoke::FunctionArn::parse).is_none() {
            return Err(Error::invalid(format!("LambdaConfig.{k} must name a Lambda function by its ARN.")));
        }
    }
    let sender = ["CustomEmailSender", "CustomSMSSender"].iter().any(|k| non_empty(c.get(*k)));
    if sender && !non_empty(c.get("KMSKeyID")) {
        return Err(Error::invalid(
            "LambdaConfig.KMSKeyID must name the KMS key that encrypts the codes sent to a custom sender.",
        ));
    }
    let legacy = c.get("PreTokenGeneration").and_then(Value::as_str);
    let config_arn = c.get("PreTokenGenerationConfig").and_then(|p| p.get("LambdaArn")).and_then(Value::as_str);
    if let (Some(a), Some(b)) = (legacy, config_arn) {
        if a != b {
            return Err(Error::invalid(
                "PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must name the same function.",
            ));
        }
    }
    Ok(())
}

/// CreateUserPool / UpdateUserPool: refuse what would be stored and ignored.
pub fn check_pool(s: &MutableSettings) -> Result<()> {
    let o = &s.other;
    check_lambda_config(o.get("LambdaConfig"))?;
    if let Some(addons) = o.get("UserPoolAddOns") {
        let mode = addons.get("AdvancedSecurityMode").and_then(Value::as_str).unwrap_or("OFF");
        if mode != "OFF" || non_empty(addons.get("AdvancedSecurityAdditionalFlows")) {
            return Err(refuse("UserPoolAddOns", "threat protection (advanced security) is not built"));
        }
    }
    if let Some(dcr) = o.get("DcrConfiguration") {
        let enabled = dcr.get("EnableStatus").and_then(Value::as_str) == Some("Enabled");
        if enabled || dcr.get("OpenDcrEnabled").and_then(Value::as_bool) == Some(true) {
            return Err(refuse("DcrConfiguration", "dynamic client registration is not built"));
        }
    }
    if non_empty(o.get("AcrConfiguration")) {
        return Err(refuse("AcrConfiguration", "ACR values are not built"));
    }
    let update = o.get("UserAttributeUpdateSettings");
    if non_empty(update.and_then(|u| u.get("AttributesRequireVerificationBeforeUpdate"))) {
        return Err(refuse(
            "UserAttributeUpdateSettings.AttributesRequireVerificationBeforeUpdate",
            "attribute updates are applied at once",
        ));
    }
    let link = o.get("VerificationMessageTemplate").and_then(|t| t.get("DefaultEmailOption"));
    if link.and_then(Value::as_str) == Some("CONFIRM_WITH_LINK") {
        return Err(refuse("DefaultEmailOption CONFIRM_WITH_LINK", "verification is by code only"));
    }
    if let Some(policies) = &s.policies {
        check_sign_in_policy(&policies.other)?;
        let history = policies.password_policy.as_ref().and_then(|p| p.password_history_size);
        if history.is_some_and(|n| n > 0) {
            return Err(refuse("PasswordPolicy.PasswordHistorySize", "earlier passwords are not remembered"));
        }
    }
    Ok(())
}

/// `Policies.SignInPolicy`: the password and one-time codes as first factors; passkeys
/// (WEB_AUTHN) are not built yet.
fn check_sign_in_policy(policies: &Map<String, Value>) -> Result<()> {
    let factors = policies.get("SignInPolicy").and_then(|p| p.get("AllowedFirstAuthFactors"));
    let Some(factors) = factors.and_then(Value::as_array) else { return Ok(()) };
    if factors.iter().any(|f| f.as_str() == Some("WEB_AUTHN")) {
        return Err(refuse("SignInPolicy.AllowedFirstAuthFactors WEB_AUTHN", "passkeys are not built"));
    }
    Ok(())
}

/// CreateUserPoolClient / UpdateUserPoolClient.
pub fn check_client(request: &Map<String, Value>) -> Result<()> {
    let flows = request.get("ExplicitAuthFlows").and_then(Value::as_array).into_iter().flatten();
    for flow in flows.filter_map(Value::as_str) {
        let why = match flow {
            "ALLOW_TOKEN_EXCHANGE_DELEGATION" | "ALLOW_TOKEN_EXCHANGE_IMPERSONATION" => "token exchange is not built",
            _ => continue,
        };
        return Err(refuse(flow, why));
    }
    if non_empty(request.get("AnalyticsConfiguration")) {
        return Err(refuse("AnalyticsConfiguration", "no analytics events are sent"));
    }
    let providers = request.get("SupportedIdentityProviders").and_then(Value::as_array).into_iter().flatten();
    for p in providers.filter_map(Value::as_str) {
        if p != "COGNITO" {
            return Err(Error::invalid(format!(
                "The provider {p} does not exist for User Pool (Janus has no federated identity providers yet)."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pool(v: Value) -> Result<()> {
        check_pool(&serde_json::from_value(v).unwrap())
    }

    #[test]
    fn what_describes_an_unused_feature_passes_and_what_configures_one_is_refused() {
        pool(json!({"LambdaConfig": {}, "UserPoolAddOns": {"AdvancedSecurityMode": "OFF"},
            "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD"]}},
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": []}}))
        .unwrap();
        for refused in [
            json!({"UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}),
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}}}),
            json!({"VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_WITH_LINK"}}),
        ] {
            let e = pool(refused.clone()).unwrap_err();
            assert!(e.to_string().contains("not supported by Janus yet"), "{refused}: {e}");
        }
        assert!(check_client(json!({"ExplicitAuthFlows": ["ALLOW_USER_AUTH"]}).as_object().unwrap()).is_ok());
        let exchange = json!({"ExplicitAuthFlows": ["ALLOW_TOKEN_EXCHANGE_DELEGATION"]});
        assert!(check_client(exchange.as_object().unwrap()).is_err());
        let f = "arn:aws:lambda:us-east-1:123456789012:function:f";
        let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        pool(json!({"LambdaConfig": {"PreSignUp": f, "PreTokenGenerationConfig": {"LambdaVersion": "V2_0", "LambdaArn": f}}}))
            .unwrap();
        let sender = json!({"LambdaVersion": "V1_0", "LambdaArn": f});
        pool(json!({"LambdaConfig": {"CustomEmailSender": sender, "CustomSMSSender": sender, "KMSKeyID": key}}))
            .unwrap();
        for bad in [
            json!({"LambdaConfig": {"PreSignUp": "arn:aws:sqs:us-east-1:1:q"}}),
            json!({"LambdaConfig": {"PreTokenGeneration": f, "PreTokenGenerationConfig": {"LambdaArn": format!("{f}2")}}}),
            json!({"LambdaConfig": {"CustomEmailSender": {"LambdaVersion": "V1_0", "LambdaArn": f}}}),
            json!({"LambdaConfig": {"CustomSMSSender": {"LambdaVersion": "V2_0", "LambdaArn": f}, "KMSKeyID": key}}),
            json!({"LambdaConfig": {"CustomSMSSender": {"LambdaVersion": "V1_0", "LambdaArn": "f"}, "KMSKeyID": key}}),
            json!({"LambdaConfig": {"KMSKeyID": "alias/codes"}}),
        ] {
            assert_eq!(pool(bad.clone()).unwrap_err().code(), "InvalidParameterException", "{bad}");
        }
        assert!(check_client(json!({"SupportedIdentityProviders": ["Google"]}).as_object().unwrap()).is_err());
        check_client(
            json!({"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"], "SupportedIdentityProviders": ["COGNITO"]})
                .as_object()
                .unwrap(),
        )
        .unwrap();
    }
}
