//! `/oauth2/token`: the authorization_code grant (with PKCE and single use), the
//! refresh_token grant, and the client_credentials grant (custom scopes only, `sub` = client
//! id, no user), plus GetClientToken, the same grant as a Cognito operation. The client
//! authenticates with client_secret_basic or client_secret_post (the HTTP surface extracts
//! either); a client of another pool than the endpoint's is `invalid_client`.

use serde_json::{json, Value};

use janus_crypto::random;
use janus_types::{Client, ClientId, Error, Pool, Result};

use super::client as oc;
use super::code::check_verifier;
use super::{OAuthError, OAuthResult};
use crate::auth::tokens::{validity_s, Grant};
use crate::auth::{Ctx, Tokens};
use crate::placement::Access;
use crate::security::SecurityEvent;
use crate::triggers::tokens::{GroupClaims, Minting, TokenSource};
use crate::Services;

/// A token request, decoded from the form.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// `aws_client_metadata`: JSON of string pairs, PreTokenGeneration's `clientMetadata`.
    pub aws_client_metadata: Option<String>,
}

/// What the token endpoint answers.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The tokens (no ID token for client_credentials).
    pub access: String,
    /// The ID token, when `openid` was granted.
    pub id: Option<String>,
    /// A refresh token, for the code grant (and a rotating refresh).
    pub refresh: Option<String>,
    /// Access-token lifetime (s).
    pub expires_in: i64,
}

fn from_tokens(t: Tokens, scope: Option<&str>) -> Issued {
    let openid = scope.is_none_or(|s| s.split(' ').any(|x| x == "openid"));
    Issued { access: t.access, id: openid.then_some(t.id), refresh: t.refresh, expires_in: t.expires_in }
}

impl Services {
    /// The client a token request names, authenticated, within the endpoint's `pool`.
    pub fn token_client(&self, pool: &Pool, id: Option<&str>, secret: Option<&str>) -> OAuthResult<Ctx> {
        let unknown = || OAuthError::InvalidClient("Client authentication failed.".into());
        let id = ClientId::parse(id.ok_or_else(unknown)?).map_err(|_| unknown())?;
        let ctx = self.auth_ctx_in(pool, &id).map_err(|e| match e {
            e if e.is_internal() => OAuthError::Server(e),
            _ => unknown(),
        })?;
        oc::authenticate(&ctx.client, secret)?;
        Ok(ctx)
    }

    /// Run a token request at `pool`'s token endpoint.
    pub fn token(&self, pool: &Pool, r: &TokenRequest) -> OAuthResult<Issued> {
        self.check_access(pool, "Token", Access::UserRead)?;
        let mut ctx = self.token_client(pool, r.client_id.as_deref(), r.client_secret.as_deref())?;
        if let Some(m) = &r.aws_client_metadata {
            ctx.metadata = serde_json::from_str(m).map_err(|_| {
                OAuthError::InvalidRequest("aws_client_metadata must be a JSON object of strings.".into())
            })?;
        }
        match r.grant_type.as_deref() {
            Some("authorization_code") => self.code_grant(&ctx, r),
            Some("refresh_token") => self.refresh_grant(&ctx, r),
            Some("client_credentials") => self.client_credentials(&ctx.pool, &ctx, r.scope.as_deref()),
            Some(other) => Err(OAuthError::UnsupportedGrantType(format!("grant_type {other} is not supported."))),
            None => Err(OAuthError::InvalidRequest("grant_type is required.".into())),
        }
    }

    fn code_grant(&self, ctx: &Ctx, r: &TokenRequest) -> OAuthResult<Issued> {
        if !oc::allows_flow(&ctx.client, "code") {
            return Err(OAuthError::UnauthorizedClient("The client may not use the authorization code flow.".into()));
        }
        let code = r.code.as_deref().ok_or_else(|| OAuthError::InvalidRequest("code is required.".into()))?;
        let bad = |m: &str| OAuthError::InvalidGrant(m.into());
        let c = self.open_code(&ctx.keys, &ctx.pool.id, code).ok_or_else(|| bad("The code is not valid."))?;
        if c.client != ctx.client.id {
            return Err(bad("The code was issued to another client."));
        }
        if c.exp_ms < self.now_ms() {
            return Err(bad("The code has expired."));
        }
        if r.redirect_uri.as_deref() != Some(c.redirect_uri.as_str()) {
            return Err(bad("redirect_uri does not match the authorization request."));
        }
        check_verifier(&c, r.code_verifier.as_deref()).map_err(bad)?;
        let user = self.store.read()?.user(&ctx.pool.id, &c.user)?.filter(|u| u.sub == c.sub);
        let user = user.ok_or_else(|| bad("The user no longer exists."))?;
        if !user.enabled {
            return Err(bad("User is disabled."));
        }
        if c.auth_time * 1000 < user.security.tokens_valid_from_ms - 999 {
            return Err(bad("The user signed out after this code was issued."));
        }
        if let Err(e) = self.redeem_code_once(&ctx.pool, &c.user, &c.id, c.exp_ms) {
            if matches!(e, Error::NotAuthorizedException(_)) {
                self.revoke_code_family(ctx, &c.user, &c.id);
            }
            return Err(OAuthError::grant(e));
        }
        let source = crate::triggers::tokens::TokenSource::HostedAuth;
        let grant = Grant { scope: Some(c.scope.clone()), nonce: c.nonce.clone(), source, device_key: None };
        // The code's id is the token family's origin, so a replay can revoke what it issued.
        let t = self.issue_granted(ctx, &user, c.auth_time, Some(&c.id), true, &grant)?;
        Ok(from_tokens(t, Some(&c.scope)))
    }

    /// A code was redeemed twice: someone else holds it, so the tokens its first redemption
    /// issued (their family's origin is the code id) are revoked (RFC 9700 §4.5).
    fn revoke_code_family(&self, ctx: &Ctx, user: &janus_types::UserKey, code_id: &str) {
        let exp = self.now_ms() / 1000 + validity_s(&ctx.client, "RefreshToken");
        let event = SecurityEvent::Revoked { user: user.clone(), origin_jti: code_id.to_owned(), exp };
        let outcome = self.security_event(&ctx.pool.id, &event);
        tracing::warn!(target: "janus::audit", event = "authorization_code_replayed", pool = %ctx.pool.id,
            client = %ctx.client.id, revocation_recorded = outcome.is_ok(),
            "an authorization code was redeemed twice; the tokens of its first redemption are revoked");
    }

    fn refresh_grant(&self, ctx: &Ctx, r: &TokenRequest) -> OAuthResult<Issued> {
        let token = r
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("refresh_token is required.".into()))?;
        let claims = self.open_refresh(ctx, token).map_err(OAuthError::grant)?;
        let t = self.refresh_opened(ctx, &claims, None, true).map_err(OAuthError::grant)?;
        Ok(from_tokens(t, claims.scope.as_deref()))
    }

    /// The client_credentials grant (and GetClientToken): an access token for the client
    /// itself, with the custom scopes it may use.
    pub fn client_credentials(&self, pool: &Pool, ctx: &Ctx, scope: Option<&str>) -> OAuthResult<Issued> {
        if !ctx.client.is_confidential() || !oc::allows_flow(&ctx.client, "client_credentials") {
            return Err(OAuthError::UnauthorizedClient("The client may not use the client_credentials grant.".into()));
        }
        let custom = self.custom_scopes(pool)?;
        let mut scopes = oc::grant_scopes(&ctx.client, scope)?;
        if scope.is_none_or(|s| s.trim().is_empty()) {
            // None requested: every custom scope the client may use (Cognito's rule).
            scopes.retain(|s| custom.contains(s));
        }
        if let Some(s) = scopes.iter().find(|s| !custom.iter().any(|c| c == *s)) {
            return Err(OAuthError::InvalidScope(format!("{s} is not a resource server scope.")));
        }
        if scopes.is_empty() {
            return Err(OAuthError::InvalidScope("The client has no resource server scopes.".into()));
        }
        let access = self.machine_token(ctx, &ctx.client, &scopes.join(" "))?;
        Ok(Issued { access, id: None, refresh: None, expires_in: validity_s(&ctx.client, "AccessToken") })
    }

    fn custom_scopes(&self, pool: &Pool) -> Result<Vec<String>> {
        let servers = self.store.read()?.resource_servers(&pool.id, None, 1000)?;
        Ok(servers.iter().flat_map(|s| s.scope_strings()).collect())
    }

    fn machine_token(&self, ctx: &Ctx, client: &Client, scope: &str) -> Result<String> {
        let rng = &*self.rng;
        let now_ms = self.now_ms();
        let iat = now_ms / 1000;
        let claims = json!({
            "sub": client.id, "token_use": "access", "scope": scope, "auth_time": iat,
            "iss": self.issuer(&ctx.pool), "exp": iat + validity_s(client, "AccessToken"), "iat": iat,
            "version": 2, "jti": random::uuid_v7(rng, now_ms), "client_id": client.id,
        });
        let Value::Object(mut claims) = claims else { unreachable!("json! of an object") };
        let mut groups = GroupClaims::default();
        let minting = Minting { id: None, access: &mut claims, groups: &mut groups };
        let source = TokenSource::ClientCredentials;
        self.pre_token_generation(&ctx.pool, client.id.as_str(), None, source, &ctx.metadata, minting)?;
        ctx.keys.signer(now_ms)?.sign(&Value::Object(claims), rng)
    }
}
