//! Issuing tokens: RS256 ID and access tokens with Cognito's claim set, signed with the
//! pool's newest key, and a sealed refresh token. Lifetimes come from the app client
//! (`IdTokenValidity`, `AccessTokenValidity`, `RefreshTokenValidity` in `TokenValidityUnits`).
//! `iat` is never earlier than the user's last global sign-out, so a token issued right after
//! one is valid and every token issued before it is not.

use serde_json::{json, Map, Value};

use janus_crypto::random;
use janus_types::{Client, Result, User};

use super::sealed::{self, RefreshClaims};
use super::Ctx;
use crate::triggers::tokens::{GroupClaims, Minting, TokenSource};
use crate::Services;

/// The tokens of a successful sign-in.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The ID token.
    pub id: String,
    /// The access token.
    pub access: String,
    /// The refresh token, on a fresh sign-in (not on refresh, unless rotating).
    pub refresh: Option<String>,
    /// Access-token lifetime in seconds.
    pub expires_in: i64,
    /// A device key handed out with a sign-in (NewDeviceMetadata), to be confirmed.
    pub new_device: Option<crate::devices::NewDevice>,
}

/// A client's token lifetime in seconds; `kind` is `AccessToken`, `IdToken` or `RefreshToken`.
pub fn validity_s(client: &Client, kind: &str) -> i64 {
    let (member, default_value, default_unit) = match kind {
        "AccessToken" => ("AccessTokenValidity", 60, "minutes"),
        "IdToken" => ("IdTokenValidity", 60, "minutes"),
        _ => ("RefreshTokenValidity", 30, "days"),
    };
    let value = client.config.get(member).and_then(Value::as_i64).unwrap_or(default_value);
    let unit = client
        .config
        .get("TokenValidityUnits")
        .and_then(|u| u.get(kind))
        .and_then(Value::as_str)
        .unwrap_or(default_unit);
    value
        * match unit {
            "seconds" => 1,
            "minutes" => 60,
            "hours" => 3600,
            _ => 86_400,
        }
}

fn readable(client: &Client, name: &str) -> bool {
    if name.starts_with("dev:") {
        return false;
    }
    match client.config.get("ReadAttributes").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list.iter().any(|v| v.as_str() == Some(name)),
        _ => true,
    }
}

fn id_claim(name: &str, value: &str) -> Value {
    match name {
        "email_verified" | "phone_number_verified" => Value::Bool(value == "true"),
        "updated_at" => value.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(value)),
        _ => Value::from(value),
    }
}

/// What an OAuth grant adds to a user's tokens.
#[derive(Debug, Clone, Default)]
pub struct Grant {
    /// Granted scopes, space-separated (`None`: an API sign-in, `aws.cognito.signin.user.admin`).
    pub scope: Option<String>,
    /// The `nonce` of the authorization request, echoed in the ID token.
    pub nonce: Option<String>,
    /// Why the tokens are issued (PreTokenGeneration's `triggerSource`).
    pub source: TokenSource,
    /// The device the access token is bound to (its `device_key` claim).
    pub device_key: Option<String>,
}

/// The access token's `scope` for an API sign-in.
pub const API_SCOPE: &str = "aws.cognito.signin.user.admin";

impl Services {
    /// Issue ID and access tokens (and a refresh token when `with_refresh`) for `user`.
    pub fn issue_tokens(
        &self,
        ctx: &Ctx,
        user: &User,
        auth_time: i64,
        origin_jti: Option<&str>,
        with_refresh: bool,
    ) -> Result<Tokens> {
        let device_key = ctx.device.verified().map(str::to_owned);
        let grant = Grant { source: ctx.source, device_key, ..Grant::default() };
        self.issue_granted(ctx, user, auth_time, origin_jti, with_refresh, &grant)
    }

    /// [`Services::issue_tokens`] for an OAuth grant: its scopes and nonce go into the tokens
    /// (and the scopes into the refresh token, so a refresh keeps them).
    pub fn issue_granted(
        &self,
        ctx: &Ctx,
        user: &User,
        auth_time: i64,
        origin_jti: Option<&str>,
        with_refresh: bool,
        grant: &Grant,
    ) -> Result<Tokens> {
        let rng = &*self.rng;
        let now_ms = self.now_ms();
        let iat = now_ms / 1000;
        let origin = origin_jti.map_or_else(|| random::uuid_v4(rng), str::to_owned);
        let event_id = random::uuid_v4(rng);
        let mut member_of = self.store.read()?.groups_of_user(&ctx.pool.id, &user.key, None, 10_000)?;
        let groups: Vec<String> = member_of.iter().map(|g| g.name.to_string()).collect();
        member_of.sort_by_key(|g| g.precedence.unwrap_or(i64::MAX));
        let roles: Vec<String> = member_of.iter().filter_map(|g| g.role_arn.clone()).collect();
        let mut groups = GroupClaims { groups, preferred_role: roles.first().cloned(), roles };
        let iss = self.issuer(&ctx.pool);
        let (access_s, id_s) = (validity_s(&ctx.client, "AccessToken"), validity_s(&ctx.client, "IdToken"));
        let access = json!({
            "sub": user.sub, "iss": iss, "client_id": ctx.client.id, "origin_jti": origin,
            "event_id": event_id, "token_use": "access", "scope": grant.scope.as_deref().unwrap_or(API_SCOPE),
            "auth_time": auth_time, "exp": iat + access_s, "iat": iat, "jti": random::uuid_v7(rng, now_ms),
            "username": user.username, "version": 2,
        });
        let Value::Object(mut access) = access else { unreachable!("json! of an object") };
        if let Some(device) = &grant.device_key {
            access.insert("device_key".into(), json!(device));
        }
        let mut id = Map::new();
        id.insert("sub".into(), json!(user.sub));
        for (name, value) in user.attributes.iter().filter(|(n, _)| readable(&ctx.client, n)) {
            id.insert(name.clone(), id_claim(name, value));
        }
        for (k, v) in [
            ("iss", json!(iss)),
            ("cognito:username", json!(user.username)),
            ("origin_jti", json!(origin)),
            ("aud", json!(ctx.client.id)),
            ("event_id", json!(event_id)),
            ("token_use", json!("id")),
            ("auth_time", json!(auth_time)),
            ("exp", json!(iat + id_s)),
            ("iat", json!(iat)),
            ("jti", json!(random::uuid_v7(rng, now_ms))),
        ] {
            id.insert(k.into(), v);
        }
        if let Some(nonce) = &grant.nonce {
            id.insert("nonce".into(), json!(nonce));
        }
        let minting = Minting { id: Some(&mut id), access: &mut access, groups: &mut groups };
        let metadata = &ctx.metadata;
        self.pre_token_generation(&ctx.pool, ctx.client.id.as_str(), Some(user), grant.source, metadata, minting)?;
        if !groups.groups.is_empty() {
            access.insert("cognito:groups".into(), json!(groups.groups));
            id.insert("cognito:groups".into(), json!(groups.groups));
        }
        if let Some(preferred) = &groups.preferred_role {
            id.insert("cognito:preferred_role".into(), json!(preferred));
        }
        if !groups.roles.is_empty() {
            id.insert("cognito:roles".into(), json!(groups.roles));
        }
        let signer = ctx.keys.signer(now_ms)?;
        let refresh = if with_refresh {
            let claims = RefreshClaims {
                v: 1,
                pool: ctx.pool.id.clone(),
                client: ctx.client.id.clone(),
                user: user.key.clone(),
                sub: user.sub.clone(),
                origin_jti: origin.clone(),
                auth_time,
                iat,
                exp: iat + validity_s(&ctx.client, "RefreshToken"),
                id: random::uuid_v7(rng, now_ms),
                scope: grant.scope.clone(),
            };
            Some(sealed::seal_refresh(&ctx.keys, &claims, rng)?)
        } else {
            None
        };
        Ok(Tokens {
            id: signer.sign(&Value::Object(id), rng)?,
            access: signer.sign(&Value::Object(access), rng)?,
            refresh,
            expires_in: access_s,
            new_device: None,
        })
    }
}
