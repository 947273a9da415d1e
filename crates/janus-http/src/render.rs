//! Domain entities rendered as Cognito's wire shapes (`UserPoolType`, `UserPoolClientType`,
//! `UserType`, `GroupType`, …). Dates are epoch seconds, as the AWS JSON protocol sends them.

use serde_json::{json, Map, Value};

use janus_core::pools::PoolView;
use janus_types::{Client, Group, PoolId, User};

/// Epoch seconds with millisecond precision.
pub fn date(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// `UserPoolType`.
pub fn pool(view: &PoolView) -> Value {
    let p = &view.pool;
    let mut config = match serde_json::to_value(&p.config) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let password_policy = config.remove("PasswordPolicy").unwrap_or(Value::Null);
    let mut policies = match config.remove("Policies") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    policies.insert("PasswordPolicy".into(), password_policy);
    for list in ["UsernameAttributes", "AliasAttributes", "AutoVerifiedAttributes"] {
        if config.get(list).and_then(Value::as_array).is_some_and(Vec::is_empty) {
            config.remove(list);
        }
    }
    let mut out = Map::new();
    out.insert("Id".into(), json!(p.id));
    out.insert("Name".into(), json!(p.name));
    out.insert("Policies".into(), Value::Object(policies));
    out.extend(config);
    out.insert("LastModifiedDate".into(), date(p.modified_ms));
    out.insert("CreationDate".into(), date(p.created_ms));
    out.insert("EstimatedNumberOfUsers".into(), json!(view.estimated_users));
    out.insert("UserPoolTags".into(), json!(p.tags));
    out.insert("Arn".into(), json!(p.arn));
    Value::Object(out)
}

/// `UserPoolDescriptionType`, an item of ListUserPools.
pub fn pool_description(view: &PoolView) -> Value {
    let p = &view.pool;
    json!({
        "Id": p.id,
        "Name": p.name,
        "LambdaConfig": p.config.other.get("LambdaConfig").cloned().unwrap_or(json!({})),
        "LastModifiedDate": date(p.modified_ms),
        "CreationDate": date(p.created_ms),
        "ReplicaRegions": view.replica_regions,
    })
}

/// `UserPoolClientType`.
pub fn client(pool: &PoolId, c: &Client) -> Value {
    let mut out = Map::new();
    out.insert("UserPoolId".into(), json!(pool));
    out.insert("ClientName".into(), json!(c.name));
    out.insert("ClientId".into(), json!(c.id));
    if let Some(s) = &c.secret {
        out.insert("ClientSecret".into(), json!(s));
    }
    out.insert("LastModifiedDate".into(), date(c.modified_ms));
    out.insert("CreationDate".into(), date(c.created_ms));
    out.extend(c.config.clone());
    Value::Object(out)
}

/// `ClientSecretDescriptorType`; the value only when Janus just generated it.
pub fn client_secret(d: &janus_core::client_secrets::SecretDescriptor) -> Value {
    let mut out = json!({"ClientSecretId": d.id, "ClientSecretCreateDate": date(d.created_ms)});
    if let Some(v) = &d.value {
        out["ClientSecretValue"] = json!(v);
    }
    out
}

/// `UserPoolClientDescription`, an item of ListUserPoolClients.
pub fn client_description(pool: &PoolId, c: &Client) -> Value {
    json!({"ClientId": c.id, "UserPoolId": pool, "ClientName": c.name})
}

/// A user's attributes as `[{"Name", "Value"}]`, `sub` first, optionally only `only`.
pub fn attributes(u: &User, only: Option<&[String]>) -> Value {
    let wanted = |n: &str| only.is_none_or(|o| o.iter().any(|w| w == n));
    let mut list = Vec::new();
    if wanted("sub") {
        list.push(json!({"Name": "sub", "Value": u.sub}));
    }
    for (name, value) in &u.attributes {
        if wanted(name) {
            list.push(json!({"Name": name, "Value": value}));
        }
    }
    Value::Array(list)
}

/// `UserType`.
pub fn user(u: &User, only: Option<&[String]>) -> Value {
    json!({
        "Username": u.username,
        "Attributes": attributes(u, only),
        "UserCreateDate": date(u.created_ms),
        "UserLastModifiedDate": date(u.modified_ms),
        "Enabled": u.enabled,
        "UserStatus": u.status.as_str(),
    })
}

/// AdminGetUser's response.
pub fn admin_get_user(u: &User) -> Value {
    let mut out = json!({
        "Username": u.username,
        "UserAttributes": attributes(u, None),
        "UserCreateDate": date(u.created_ms),
        "UserLastModifiedDate": date(u.modified_ms),
        "Enabled": u.enabled,
        "UserStatus": u.status.as_str(),
    });
    mfa_members(u, &mut out);
    out
}

/// GetUser's response.
pub fn get_user(u: &User) -> Value {
    let mut out = json!({"Username": u.username, "UserAttributes": attributes(u, None)});
    mfa_members(u, &mut out);
    out
}

/// The MFA members of GetUser and AdminGetUser, present only when set, as Cognito sends
/// them: `UserMFASettingList` (enabled factors), `PreferredMfaSetting`, and the legacy
/// `MFAOptions` (SMS to the phone number) when SMS MFA is enabled.
/// GetUserAuthFactors / AdminGetUserAuthFactors.
pub fn user_auth_factors(u: &User, factors: &[&str]) -> Value {
    let mut out = json!({"Username": u.username, "ConfiguredUserAuthFactors": factors});
    if !u.mfa.enabled.is_empty() {
        out["UserMFASettingList"] = json!(u.mfa.enabled.iter().map(|f| f.as_str()).collect::<Vec<_>>());
    }
    if let Some(p) = u.mfa.preferred {
        out["PreferredMfaSetting"] = json!(p.as_str());
    }
    out
}

fn mfa_members(u: &User, out: &mut Value) {
    if !u.mfa.enabled.is_empty() {
        out["UserMFASettingList"] = json!(u.mfa.enabled.iter().map(|f| f.as_str()).collect::<Vec<_>>());
    }
    if let Some(p) = u.mfa.preferred {
        out["PreferredMfaSetting"] = json!(p.as_str());
    }
    if u.mfa.has(janus_types::MfaFactor::Sms) {
        out["MFAOptions"] = json!([{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]);
    }
}

/// `GroupType`.
pub fn group(pool: &PoolId, g: &Group) -> Value {
    let mut out = json!({
        "GroupName": g.name,
        "UserPoolId": pool,
        "LastModifiedDate": date(g.modified_ms),
        "CreationDate": date(g.created_ms),
    });
    if let Some(o) = out.as_object_mut() {
        if let Some(d) = &g.description {
            o.insert("Description".into(), json!(d));
        }
        if let Some(r) = &g.role_arn {
            o.insert("RoleArn".into(), json!(r));
        }
        if let Some(p) = g.precedence {
            o.insert("Precedence".into(), json!(p));
        }
    }
    out
}

/// `CodeDeliveryDetailsType`.
pub fn delivery(d: &janus_core::codes::Delivery) -> Value {
    json!({"Destination": d.destination, "DeliveryMedium": d.medium, "AttributeName": d.attribute})
}

/// The host (and port) of a URL, for answers that name a host.
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

/// `DomainDescriptionType`.
pub fn domain(s: &janus_core::Services, view: &janus_core::domains::DomainView) -> Value {
    let d = &view.domain;
    let mut out = json!({
        "UserPoolId": view.pool,
        "AWSAccountId": s.account,
        "Domain": d.domain,
        "Status": "ACTIVE",
        "Version": d.modified_ms.to_string(),
        "ManagedLoginVersion": d.managed_login_version.unwrap_or(1),
    });
    if let Some(c) = &d.custom {
        out["CustomDomainConfig"] = c.clone();
        out["CloudFrontDistribution"] = json!(host_of(&s.issuer_base));
    }
    if let Some(r) = &d.routing {
        out["Routing"] = r.clone();
    }
    out
}

/// `ResourceServerType`.
pub fn resource_server(pool: &PoolId, rs: &janus_types::ResourceServer) -> Value {
    let scopes: Vec<Value> =
        rs.scopes.iter().map(|s| json!({"ScopeName": s.name, "ScopeDescription": s.description})).collect();
    json!({ "UserPoolId": pool, "Identifier": rs.identifier, "Name": rs.name, "Scopes": scopes })
}

/// `UICustomizationType`.
pub fn ui_customization(
    pool: &PoolId,
    ui: Option<&janus_types::UiCustomization>,
    client: Option<&janus_types::ClientId>,
) -> Value {
    let mut out = json!({ "UserPoolId": pool, "ClientId": client.map_or("ALL", |c| c.as_str()) });
    if let Some(ui) = ui {
        out["ClientId"] = json!(ui.client);
        if let Some(css) = &ui.css {
            out["CSS"] = json!(css);
            out["CSSVersion"] = json!(ui.modified_ms.to_string());
        }
        if ui.image.is_some() {
            out["ImageUrl"] = json!(format!("data:image/png;base64,(inline in the hosted pages)"));
        }
        out["CreationDate"] = date(ui.created_ms);
        out["LastModifiedDate"] = date(ui.modified_ms);
    }
    out
}
