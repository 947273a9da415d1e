//! The OAuth configuration operations: user pool domains, resource servers, UI
//! customization, and GetClientToken (client_credentials as a Cognito operation; the SDKs
//! sign it, but the client secret is what authenticates it).

use serde::Deserialize;
use serde_json::{json, Value};

use janus_core::domains::DomainInput;
use janus_core::oauth::OAuthError;
use janus_core::resource_servers::ResourceServerInput;
use janus_core::Services;
use janus_types::{ClientId, Error, PoolId};

use super::{admin, admin_read, empty, input, limit, Operation};
use crate::ops::{Auth, Handler};
use crate::render;
use janus_core::placement::Access;

pub const OPS: &[Operation] = &[
    admin("CreateUserPoolDomain", create_user_pool_domain),
    admin_read("DescribeUserPoolDomain", describe_user_pool_domain),
    admin("UpdateUserPoolDomain", update_user_pool_domain),
    admin("DeleteUserPoolDomain", delete_user_pool_domain),
    admin("CreateResourceServer", create_resource_server),
    admin_read("DescribeResourceServer", describe_resource_server),
    admin("UpdateResourceServer", update_resource_server),
    admin("DeleteResourceServer", delete_resource_server),
    admin_read("ListResourceServers", list_resource_servers),
    admin("SetUICustomization", set_ui_customization),
    admin_read("GetUICustomization", get_ui_customization),
    Operation {
        name: "GetClientToken",
        auth: Auth::Public,
        access: Access::UserRead,
        handler: Handler::Local(get_client_token),
        point_read: false,
    },
];

fn domain_answer(s: &Services, d: &janus_types::Domain) -> Value {
    let mut out = json!({ "ManagedLoginVersion": d.managed_login_version.unwrap_or(1) });
    if d.custom.is_some() {
        out["CloudFrontDomain"] = json!(render::host_of(&s.issuer_base));
    }
    if let Some(r) = &d.routing {
        out["Routing"] = r.clone();
    }
    out
}

fn create_user_pool_domain(s: &Services, v: Value) -> Result<Value, Error> {
    let d = s.create_domain(input::<DomainInput>(v)?)?;
    Ok(domain_answer(s, &d))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainRef {
    domain: String,
    user_pool_id: Option<PoolId>,
}

fn describe_user_pool_domain(s: &Services, v: Value) -> Result<Value, Error> {
    let r: DomainRef = input(v)?;
    let description = match s.describe_domain(&r.domain)? {
        Some(view) => render::domain(s, &view),
        None => json!({}),
    };
    Ok(json!({ "DomainDescription": description }))
}

fn update_user_pool_domain(s: &Services, v: Value) -> Result<Value, Error> {
    let d = s.update_domain(input::<DomainInput>(v)?)?;
    Ok(domain_answer(s, &d))
}

fn delete_user_pool_domain(s: &Services, v: Value) -> Result<Value, Error> {
    let r: DomainRef = input(v)?;
    let pool = r.user_pool_id.ok_or_else(|| Error::invalid("UserPoolId is required."))?;
    s.delete_domain(&pool, &r.domain)?;
    empty()
}

fn create_resource_server(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ResourceServerInput = input(v)?;
    let pool = r.user_pool_id.clone();
    Ok(json!({ "ResourceServer": render::resource_server(&pool, &s.create_resource_server(r)?) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServerRef {
    user_pool_id: PoolId,
    identifier: String,
}

fn describe_resource_server(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ServerRef = input(v)?;
    let rs = s.describe_resource_server(&r.user_pool_id, &r.identifier)?;
    Ok(json!({ "ResourceServer": render::resource_server(&r.user_pool_id, &rs) }))
}

fn update_resource_server(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ResourceServerInput = input(v)?;
    let pool = r.user_pool_id.clone();
    Ok(json!({ "ResourceServer": render::resource_server(&pool, &s.update_resource_server(r)?) }))
}

fn delete_resource_server(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ServerRef = input(v)?;
    s.delete_resource_server(&r.user_pool_id, &r.identifier)?;
    empty()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListServers {
    user_pool_id: PoolId,
    max_results: Option<usize>,
    next_token: Option<String>,
}

fn list_resource_servers(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ListServers = input(v)?;
    let (items, next) = s.list_resource_servers(&r.user_pool_id, limit(r.max_results), r.next_token.as_deref())?;
    let items: Vec<Value> = items.iter().map(|rs| render::resource_server(&r.user_pool_id, rs)).collect();
    let mut out = json!({ "ResourceServers": items });
    if let Some(n) = next {
        out["NextToken"] = json!(n);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUi {
    user_pool_id: PoolId,
    client_id: Option<ClientId>,
    #[serde(rename = "CSS")]
    css: Option<String>,
    image_file: Option<String>,
}

fn set_ui_customization(s: &Services, v: Value) -> Result<Value, Error> {
    let r: SetUi = input(v)?;
    let ui = s.set_ui_customization(&r.user_pool_id, r.client_id.as_ref(), r.css, r.image_file)?;
    Ok(json!({ "UICustomization": render::ui_customization(&r.user_pool_id, Some(&ui), r.client_id.as_ref()) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetUi {
    user_pool_id: PoolId,
    client_id: Option<ClientId>,
}

fn get_ui_customization(s: &Services, v: Value) -> Result<Value, Error> {
    let r: GetUi = input(v)?;
    let ui = s.ui_customization(&r.user_pool_id, r.client_id.as_ref())?;
    Ok(json!({ "UICustomization": render::ui_customization(&r.user_pool_id, ui.as_ref(), r.client_id.as_ref()) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientToken {
    client_id: ClientId,
    secret: String,
    #[serde(default)]
    scopes: Vec<String>,
}

fn get_client_token(s: &Services, v: Value) -> Result<Value, Error> {
    let r: ClientToken = input(v)?;
    // The client authenticates with its secret and must allow the client_credentials flow
    // (botocore's ExplicitAuthFlows enum has no ALLOW_CLIENT_TOKEN_AUTH to check).
    let ctx = s.auth_ctx(&r.client_id, None, false)?;
    janus_core::oauth::client::authenticate(&ctx.client, Some(&r.secret))
        .map_err(|_| Error::NotAuthorizedException(format!("Unable to verify secret for client {}", r.client_id)))?;
    let scope = (!r.scopes.is_empty()).then(|| r.scopes.join(" "));
    let pool = ctx.pool.clone();
    let issued = s.client_credentials(&pool, &ctx, scope.as_deref()).map_err(|e| match e {
        OAuthError::Server(e) => e,
        OAuthError::InvalidScope(m) => Error::invalid(m),
        other => Error::NotAuthorizedException(other.description()),
    })?;
    Ok(json!({ "ClientAuthenticationResult": {
        "AccessToken": issued.access, "ExpiresIn": issued.expires_in, "TokenType": "Bearer",
    }}))
}
