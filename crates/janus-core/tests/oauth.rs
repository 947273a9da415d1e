//! OAuth behaviour with an injected clock (issue 7): a code expires after five minutes and is
//! single-use; PKCE is enforced; a refresh keeps the granted scopes; client_credentials issues
//! resource-server scopes only; a sealed authorization request expires.

use serde_json::{json, Map};
use std::sync::Arc;

use janus_core::auth::Outcome;
use janus_core::oauth::authorize::AuthorizeParams;
use janus_core::oauth::code::s256;
use janus_core::oauth::grants::TokenRequest;
use janus_core::oauth::OAuthError;
use janus_core::pools::CreatePool;
use janus_core::resource_servers::{ResourceServerInput, ScopeInput};
use janus_core::users::create::CreateUser;
use janus_core::Services;
use janus_testkit::{backends, Backend, WorldBuilder};
use janus_types::{Client, ManualClock, Pool};

const CB: &str = "https://app.example.com/cb";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct World {
    s: Services,
    clock: Arc<ManualClock>,
    pool: Pool,
    web: Client,
    _kit: janus_testkit::World,
}

fn world(backend: Backend) -> World {
    let kit = WorldBuilder::new(backend).seed(7).build();
    let (s, clock) = (kit.s.clone(), kit.clock.clone());
    let pool = s.create_pool(serde_json::from_value::<CreatePool>(json!({"PoolName": "p"})).unwrap()).unwrap();
    let cfg: Map<String, serde_json::Value> = serde_json::from_value(json!({
        "AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "email"], "CallbackURLs": [CB], "SupportedIdentityProviders": ["COGNITO"],
    }))
    .unwrap();
    let web = s.create_client(&pool.id, "web".into(), false, None, cfg).unwrap();
    s.admin_create_user(CreateUser {
        validation_data: Vec::new(),
        client_metadata: Default::default(),
        user_pool_id: pool.id.clone(),
        username: "ada".into(),
        user_attributes: vec![],
        temporary_password: None,
        force_alias_creation: false,
        message_action: Some("SUPPRESS".into()),
        desired_delivery_mediums: vec![],
    })
    .unwrap();
    s.admin_set_password(&pool.id, "ada", "Perm-Passw0rd!", true).unwrap();
    World { s, clock, pool, web, _kit: kit }
}

impl World {
    fn code(&self) -> String {
        let p = AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some(self.web.id.to_string()),
            redirect_uri: Some(CB.into()),
            scope: Some("openid".into()),
            code_challenge: Some(s256(VERIFIER)),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        };
        let req = self.s.authorize(&self.pool, &p).map_err(|_| "refused").unwrap();
        let ctx = self.s.hosted_ctx(&self.pool, &self.web.id).unwrap();
        match self.s.password_sign_in(&ctx, "ada", "Perm-Passw0rd!").unwrap() {
            Outcome::Authenticated { user, auth_time } => self.s.issue_code(&ctx.keys, &req, &user, auth_time).unwrap(),
            other => panic!("expected Authenticated, got {other:?}"),
        }
    }

    fn redeem(&self, code: &str, verifier: Option<&str>) -> Result<janus_core::oauth::grants::Issued, OAuthError> {
        self.s.token(
            &self.pool,
            &TokenRequest {
                grant_type: Some("authorization_code".into()),
                client_id: Some(self.web.id.to_string()),
                code: Some(code.into()),
                redirect_uri: Some(CB.into()),
                code_verifier: verifier.map(str::to_owned),
                ..Default::default()
            },
        )
    }
}

#[test]
fn a_code_is_single_use() {
    for backend in backends() {
        let w = world(backend);
        let code = w.code();
        let issued = w.redeem(&code, Some(VERIFIER)).unwrap();
        assert!(issued.id.is_some() && issued.refresh.is_some());
        assert!(matches!(w.redeem(&code, Some(VERIFIER)), Err(OAuthError::InvalidGrant(_))));
    }
}

#[test]
fn a_code_expires_after_five_minutes() {
    for backend in backends() {
        let w = world(backend);
        let code = w.code();
        w.clock.advance(5 * 60 * 1000 + 1);
        assert!(matches!(w.redeem(&code, Some(VERIFIER)), Err(OAuthError::InvalidGrant(m)) if m.contains("expired")));
    }
}

#[test]
fn pkce_is_enforced() {
    for backend in backends() {
        let w = world(backend);
        let code = w.code();
        assert!(matches!(w.redeem(&code, None), Err(OAuthError::InvalidGrant(_))));
        assert!(matches!(w.redeem(&code, Some(&VERIFIER.replace('d', "e"))), Err(OAuthError::InvalidGrant(_))));
        assert!(w.redeem(&code, Some(VERIFIER)).is_ok(), "failed checks do not use the code up");
    }
}

#[test]
fn a_refresh_keeps_the_granted_scopes() {
    for backend in backends() {
        let w = world(backend);
        let issued = w.redeem(&w.code(), Some(VERIFIER)).unwrap();
        let again =
            w.s.token(
                &w.pool,
                &TokenRequest {
                    grant_type: Some("refresh_token".into()),
                    client_id: Some(w.web.id.to_string()),
                    refresh_token: issued.refresh.clone(),
                    ..Default::default()
                },
            )
            .unwrap();
        let claims = janus_crypto::jwt::verify(
            &again.access,
            &w.s.pool_keys(&*w.s.store.read().unwrap(), &w.pool.id).unwrap().public,
        )
        .unwrap();
        assert_eq!(claims["scope"], "openid");
    }
}

#[test]
fn a_sealed_request_expires() {
    for backend in backends() {
        let w = world(backend);
        let p = AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some(w.web.id.to_string()),
            redirect_uri: Some(CB.into()),
            code_challenge: Some(s256(VERIFIER)),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        };
        let req = w.s.authorize(&w.pool, &p).map_err(|_| "refused").unwrap();
        let keys = w.s.pool_keys(&*w.s.store.read().unwrap(), &w.pool.id).unwrap();
        let sealed = w.s.seal_request(&keys, &req).unwrap();
        assert_eq!(w.s.open_request(&keys, &w.pool.id, &sealed), Some(req));
        w.clock.advance(31 * 60 * 1000);
        assert_eq!(w.s.open_request(&keys, &w.pool.id, &sealed), None);
    }
}

#[test]
fn client_credentials_carry_resource_server_scopes_only() {
    for backend in backends() {
        let w = world(backend);
        w.s.create_resource_server(ResourceServerInput {
            user_pool_id: w.pool.id.clone(),
            identifier: "api".into(),
            name: "api".into(),
            scopes: vec![ScopeInput { scope_name: "read".into(), scope_description: "r".into() }],
        })
        .unwrap();
        let cfg: Map<String, serde_json::Value> = serde_json::from_value(json!({
            "AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": ["api/read", "openid"],
        }))
        .unwrap();
        let m2m = w.s.create_client(&w.pool.id, "m2m".into(), true, None, cfg).unwrap();
        let req = |scope: Option<&str>| TokenRequest {
            grant_type: Some("client_credentials".into()),
            client_id: Some(m2m.id.to_string()),
            client_secret: m2m.secret.clone(),
            scope: scope.map(str::to_owned),
            ..Default::default()
        };
        assert!(w.s.token(&w.pool, &req(Some("api/read"))).unwrap().id.is_none());
        assert!(matches!(w.s.token(&w.pool, &req(Some("openid"))), Err(OAuthError::InvalidScope(_))));
        let all = w.s.token(&w.pool, &req(None)).unwrap();
        let keys = w.s.pool_keys(&*w.s.store.read().unwrap(), &w.pool.id).unwrap();
        assert_eq!(janus_crypto::jwt::verify(&all.access, &keys.public).unwrap()["scope"], "api/read");
        let mut wrong = req(Some("api/read"));
        wrong.client_secret = Some("nope".into());
        assert!(matches!(w.s.token(&w.pool, &wrong), Err(OAuthError::InvalidClient(_))));
    }
}
