//! The OAuth endpoints: `/oauth2/authorize` (checks the request, then sends the browser to the
//! login page with the same query, as Cognito does), `/oauth2/token`, `/oauth2/userInfo`,
//! `/oauth2/revoke` (RFC 7009), `/logout`, and the discovery document under the site.

use axum::body::{to_bytes, Body};
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use janus_core::oauth::authorize::{AuthorizeParams, Refusal};
use janus_core::oauth::grants::TokenRequest;
use janus_core::oauth::OAuthError;

use super::site::{self, blocking, oauth_error, redirect, with_query, Site, St};
use crate::pages;

/// Resolve the site or answer the error.
pub(crate) fn site_of(st: &St, params: &RawPathParams, headers: &HeaderMap) -> Result<Site, Response> {
    match site::resolve(st, params, headers) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(site::no_site()),
        Err(e) => Err(oauth_error(&OAuthError::Server(e))),
    }
}

/// The redirect that carries an error back to the client.
pub(crate) fn refusal(r: Refusal) -> Response {
    match r {
        Refusal::Show(e) => pages::error_page(&e),
        Refusal::Redirect { redirect_uri, state, error } => {
            let desc = error.description();
            let mut p = vec![("error", error.code()), ("error_description", desc.as_str())];
            if let Some(s) = &state {
                p.push(("state", s));
            }
            redirect(&with_query(&redirect_uri, &p))
        }
    }
}

pub async fn authorize(
    State(st): State<St>,
    params: RawPathParams,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let site = match site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let query = q.unwrap_or_default();
    let p: AuthorizeParams = serde_urlencoded::from_str(&query).unwrap_or_default();
    let services = st.services.clone();
    let pool = site.pool.clone();
    match blocking(move || services.authorize(&pool, &p)).await {
        Ok(Ok(_)) => redirect(&format!("{}/login?{query}", site.base)),
        Ok(Err(r)) => refusal(r),
        Err(resp) => resp,
    }
}

/// client_secret_basic: `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = String::from_utf8(STANDARD.decode(b64.trim()).ok()?).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Some((decode(id)?, decode(secret)?))
}

async fn form(body: Body) -> Result<Vec<(String, String)>, OAuthError> {
    let bytes = to_bytes(body, 64 * 1024).await.map_err(|_| OAuthError::InvalidRequest("Body too large.".into()))?;
    Ok(form_urlencoded::parse(&bytes).into_owned().collect())
}

fn field(f: &[(String, String)], name: &str) -> Option<String> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn token_request(headers: &HeaderMap, f: &[(String, String)]) -> Result<TokenRequest, OAuthError> {
    let mut r = TokenRequest {
        grant_type: field(f, "grant_type"),
        client_id: field(f, "client_id"),
        client_secret: field(f, "client_secret"),
        code: field(f, "code"),
        redirect_uri: field(f, "redirect_uri"),
        code_verifier: field(f, "code_verifier"),
        refresh_token: field(f, "refresh_token"),
        scope: field(f, "scope"),
        aws_client_metadata: field(f, "aws_client_metadata"),
    };
    if let Some((id, secret)) = basic_auth(headers) {
        if r.client_secret.is_some() || r.client_id.as_ref().is_some_and(|c| *c != id) {
            return Err(OAuthError::InvalidRequest("Use one client authentication method.".into()));
        }
        r.client_id = Some(id);
        r.client_secret = Some(secret);
    }
    Ok(r)
}

pub async fn token(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    let site = match site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let req = match form(body).await.and_then(|f| token_request(&headers, &f)) {
        Ok(r) => r,
        Err(e) => return oauth_error(&e),
    };
    let services = st.services.clone();
    match blocking(move || services.token(&site.pool, &req)).await {
        Ok(Ok(t)) => {
            let mut out = json!({"access_token": t.access, "expires_in": t.expires_in, "token_type": "Bearer"});
            if let Some(id) = t.id {
                out["id_token"] = json!(id);
            }
            if let Some(r) = t.refresh {
                out["refresh_token"] = json!(r);
            }
            let mut resp = Json(out).into_response();
            site::no_store(resp.headers_mut());
            resp
        }
        Ok(Err(e)) => oauth_error(&e),
        Err(resp) => resp,
    }
}

pub async fn userinfo(State(st): State<St>, params: RawPathParams, headers: HeaderMap) -> Response {
    let site = match site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        v.split_once(' ').filter(|(s, _)| s.eq_ignore_ascii_case("bearer")).map(|(_, t)| t.trim().to_owned())
    });
    let Some(token) = bearer else {
        return oauth_error(&OAuthError::InvalidToken("A bearer access token is required.".into()));
    };
    let services = st.services.clone();
    match blocking(move || services.userinfo(&site.pool, &token)).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => oauth_error(&e),
        Err(resp) => resp,
    }
}

pub async fn revoke(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    let site = match site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (req, token) = match form(body).await.and_then(|f| Ok((token_request(&headers, &f)?, field(&f, "token")))) {
        Ok(v) => v,
        Err(e) => return oauth_error(&e),
    };
    let Some(token) = token else { return oauth_error(&OAuthError::InvalidRequest("token is required.".into())) };
    let services = st.services.clone();
    let result = blocking(move || -> Result<(), OAuthError> {
        let ctx = services.token_client(&site.pool, req.client_id.as_deref(), req.client_secret.as_deref())?;
        match services.revoke_in(&ctx, &token) {
            Ok(()) => Ok(()),
            Err(janus_types::Error::UnsupportedOperationException(m)) => Err(OAuthError::UnsupportedTokenType(m)),
            Err(e) if e.is_internal() => Err(OAuthError::Server(e)),
            // RFC 7009 §2.2: an invalid token (or another client's) is not an error.
            Err(_) => Ok(()),
        }
    })
    .await;
    match result {
        Ok(Ok(())) => Json(json!({})).into_response(),
        Ok(Err(e)) => oauth_error(&e),
        Err(resp) => resp,
    }
}

#[derive(serde::Deserialize, Default)]
struct LogoutParams {
    client_id: Option<String>,
    logout_uri: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
}

pub async fn logout(
    State(st): State<St>,
    params: RawPathParams,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let site = match site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let query = q.unwrap_or_default();
    let p: LogoutParams = serde_urlencoded::from_str(&query).unwrap_or_default();
    let services = st.services.clone();
    let pool = site.pool.clone();
    let secure = pages::over_https(&st, &headers);
    if p.response_type.is_some() && p.redirect_uri.is_some() && p.logout_uri.is_none() {
        // Sign out, then sign in again: the authorize checks apply (registered redirect_uri).
        return redirect(&format!("{}/oauth2/authorize?{query}", site.base));
    }
    match blocking(move || services.logout_target(&pool, p.client_id.as_deref(), p.logout_uri.as_deref())).await {
        Ok(Ok(target)) => {
            let mut resp = redirect(&target);
            pages::clear_cookies(&mut resp, secure);
            resp
        }
        Ok(Err(e)) => pages::error_page(&e),
        Err(resp) => resp,
    }
}

pub async fn discovery(State(st): State<St>, params: RawPathParams, headers: HeaderMap) -> Response {
    let site = match site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let services = st.services.clone();
    match blocking(move || services.openid_configuration(&site.pool.id)).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => oauth_error(&OAuthError::from(e)),
        Err(resp) => resp,
    }
}
