//! The sign-in page. `GET /login` re-checks the authorization request (exactly as
//! `/oauth2/authorize` does) and shows the form; `POST /login` checks the CSRF token, opens
//! the sealed request and signs in through the state machine. [`finish`] turns any outcome
//! into the next response: a code sent to the client's redirect URI, a challenge form, or
//! the form again with the error.

use axum::body::{to_bytes, Body};
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;

use janus_core::auth::{Ctx, Outcome};
use janus_core::keys::LoadedKeys;
use janus_core::oauth::authorize::{AuthRequest, AuthorizeParams};
use janus_core::oauth::OAuthError;
use janus_core::Services;
use janus_types::{Error, Pool};

use super::html::{self, hidden, Brand, Field, Frame};
use super::{challenge, error_page, set_csrf_cookie};
use crate::oauth::site::{blocking, redirect, with_query, Site, St};

/// A sign-in in progress: the site, the hosted context, the sealed request and the tokens
/// each form carries.
pub(super) struct Flow {
    pub site: Site,
    pub ctx: Ctx,
    pub req: AuthRequest,
    pub sealed_req: String,
    pub csrf: String,
    pub brand: Brand,
}

impl Flow {
    /// The hidden fields every form of the flow carries.
    pub fn hidden(&self) -> String {
        hidden("request", &self.sealed_req) + &hidden("csrf", &self.csrf)
    }

    /// The page frame.
    pub fn frame<'a>(&'a self, title: &'a str, error: Option<&'a str>, info: Option<&'a str>) -> Frame<'a> {
        Frame {
            title,
            pool_name: &self.site.pool.name,
            client_name: Some(&self.ctx.client.name),
            brand: &self.brand,
            error,
            info,
        }
    }

    /// A link to another page of the flow (carrying the original request's query).
    pub fn link(&self, page: &str) -> String {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", self.ctx.client.id.as_str()),
            ("redirect_uri", self.req.redirect_uri.as_str()),
            ("scope", self.req.scope.as_str()),
        ];
        for (k, v) in [("state", &self.req.state), ("nonce", &self.req.nonce), ("code_challenge", &self.req.challenge)]
        {
            if let Some(v) = v {
                p.push((k, v));
            }
        }
        if self.req.challenge.is_some() {
            p.push(("code_challenge_method", "S256"));
        }
        with_query(&format!("{}/{page}", self.site.base), &p)
    }
}

fn brand(s: &Services, pool: &Pool, ctx: &Ctx) -> Brand {
    match s.ui_customization(&pool.id, Some(&ctx.client.id)) {
        Ok(Some(ui)) => Brand { css: ui.css, image: ui.image },
        _ => Brand::default(),
    }
}

fn keys(s: &Services, pool: &Pool) -> Result<Arc<LoadedKeys>, Error> {
    s.pool_keys(&*s.store.read()?, &pool.id)
}

/// Start a flow from a checked request (GET of a page).
pub(super) fn start(s: &Services, site: Site, req: AuthRequest, cookie: &str) -> Result<Flow, Error> {
    let ctx = s.hosted_ctx(&site.pool, &req.client)?;
    let sealed_req = s.seal_request(&ctx.keys, &req)?;
    let csrf = s.csrf_form_token(&ctx.keys, cookie)?;
    let brand = brand(s, &site.pool, &ctx);
    Ok(Flow { site, ctx, req, sealed_req, csrf, brand })
}

/// Resume a flow from a posted form: CSRF and the sealed request must check out.
pub(super) fn resume(
    s: &Services,
    site: Site,
    form: &[(String, String)],
    cookie: Option<&str>,
) -> Result<Flow, Response> {
    let server = |e: Error| error_page(&OAuthError::from(e));
    let k = keys(s, &site.pool).map_err(server)?;
    if !s.csrf_ok(&k, cookie, field(form, "csrf")) {
        return Err(error_page(&OAuthError::InvalidRequest(
            "This form expired or did not come from this page. Go back to the application and sign in again.".into(),
        )));
    }
    let req = field(form, "request").and_then(|r| s.open_request(&k, &site.pool.id, r)).ok_or_else(|| {
        error_page(&OAuthError::InvalidRequest(
            "The sign-in took too long. Go back to the application and start again.".into(),
        ))
    })?;
    start(s, site, req, cookie.unwrap_or_default()).map_err(server)
}

/// A form field.
pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Read a posted form.
pub(super) async fn read_form(body: Body) -> Vec<(String, String)> {
    match to_bytes(body, 256 * 1024).await {
        Ok(b) => form_urlencoded::parse(&b).into_owned().collect(),
        Err(_) => Vec::new(),
    }
}

/// The next response after a sign-in step.
pub(super) fn finish(
    s: &Services,
    flow: &Flow,
    step: Result<Outcome, Error>,
    again: impl FnOnce(&str) -> Response,
) -> Response {
    match step {
        Ok(Outcome::Authenticated { user, auth_time }) => {
            match s.issue_code(&flow.ctx.keys, &flow.req, &user, auth_time) {
                Ok(code) => {
                    let mut p = vec![("code", code.as_str())];
                    if let Some(st) = &flow.req.state {
                        p.push(("state", st));
                    }
                    redirect(&with_query(&flow.req.redirect_uri, &p))
                }
                Err(e) => error_page(&OAuthError::Server(e)),
            }
        }
        Ok(Outcome::Challenge { name, session, parameters }) if name == "MFA_SETUP" => {
            challenge::setup(s, flow, session.as_deref().unwrap_or_default(), parameters)
        }
        Ok(Outcome::Challenge { name, session, parameters }) => {
            challenge::render(flow, &name, session.as_deref().unwrap_or_default(), &parameters, None)
        }
        Ok(Outcome::Tokens(_)) => {
            error_page(&OAuthError::Server(Error::internal(anyhow::anyhow!("tokens in a hosted sign-in"))))
        }
        Err(e) if e.is_internal() => error_page(&OAuthError::Server(e)),
        Err(e) => again(&user_message(&e)),
    }
}

/// What a page says about a refused step (Cognito's messages name no secret).
pub(super) fn user_message(e: &Error) -> String {
    match e {
        Error::UserNotFoundException(_) => "Incorrect username or password.".into(),
        other => other.to_string(),
    }
}

/// The buttons that sign in with a one-time code instead of the password, for the factors
/// the pool allows (AllowedFirstAuthFactors).
fn code_buttons(flow: &Flow) -> String {
    let allowed = janus_core::auth::choice::allowed_first_factors(&flow.ctx.pool);
    [("EMAIL_OTP", "Email me a sign-in code"), ("SMS_OTP", "Text me a sign-in code")]
        .iter()
        .filter(|(f, _)| allowed.iter().any(|a| a == f))
        .map(|(f, label)| {
            format!("<button type=\"submit\" name=\"method\" value=\"{f}\" formnovalidate>{label}</button>")
        })
        .collect()
}

fn sign_in_page(flow: &Flow, username: &str, error: Option<&str>, info: Option<&str>) -> Response {
    let body = format!(
        "<form method=\"post\" action=\"{}/login\" novalidate>{}{}<button type=\"submit\">Sign in</button>{}</form>\
         <p class=\"links\"><a href=\"{}\">Forgot your password?</a></p>\
         <p class=\"links\">Need an account? <a href=\"{}\">Sign up</a></p>",
        html::esc(&flow.site.base),
        flow.hidden(),
        html::fields(
            &[
                Field {
                    name: "username",
                    label: "Username",
                    kind: "text",
                    autocomplete: "username",
                    value: username,
                    hint: None
                },
                Field {
                    name: "password",
                    label: "Password",
                    kind: "password",
                    autocomplete: "current-password",
                    value: "",
                    hint: None
                },
            ],
            error.is_some()
        ),
        code_buttons(flow),
        html::esc(&flow.link("forgotPassword")),
        html::esc(&flow.link("signup")),
    );
    super::html(StatusCode::OK, html::page(&flow.frame("Sign in", error, info), &body))
}

/// The sign-in form of a flow, with a notice (after sign-up or a password reset).
pub(super) fn sign_in_with_notice(flow: &Flow, info: &str) -> Response {
    sign_in_page(flow, "", None, Some(info))
}

/// Check the query as `/oauth2/authorize` does and start a flow (the GET of every page).
pub(super) async fn show_page(
    st: St,
    params: RawPathParams,
    headers: HeaderMap,
    query: Option<String>,
    render: fn(&Flow) -> Response,
) -> Response {
    let site = match crate::oauth::endpoints::site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p: AuthorizeParams = serde_urlencoded::from_str(&query.unwrap_or_default()).unwrap_or_default();
    let existing = super::csrf_cookie(&st, &headers);
    let secure = super::over_https(&st, &headers);
    let services = st.services.clone();
    let result = blocking(move || {
        let req = services.authorize(&site.pool, &p).map_err(crate::oauth::endpoints::refusal)?;
        let value = existing.clone().unwrap_or_else(|| services.csrf_cookie_value());
        let flow = start(&services, site, req, &value).map_err(|e| error_page(&OAuthError::from(e)))?;
        let mut resp = render(&flow);
        if existing.is_none() {
            set_csrf_cookie(&mut resp, &value, secure);
        }
        Ok::<_, Response>(resp)
    })
    .await;
    match result {
        Ok(Ok(r)) | Ok(Err(r)) | Err(r) => r,
    }
}

pub async fn show(State(st): State<St>, params: RawPathParams, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    show_page(st, params, headers, q, |flow| sign_in_page(flow, "", None, None)).await
}

pub async fn submit(State(st): State<St>, params: RawPathParams, headers: HeaderMap, body: Body) -> Response {
    let site = match crate::oauth::endpoints::site_of(&st, &params, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = read_form(body).await;
    let cookie = super::csrf_cookie(&st, &headers);
    let services = st.services.clone();
    let result = blocking(move || {
        let flow = match resume(&services, site, &form, cookie.as_deref()) {
            Ok(f) => f,
            Err(r) => return r,
        };
        let username = field(&form, "username").unwrap_or_default().trim().to_owned();
        let password = field(&form, "password").unwrap_or_default();
        if let Some(factor) = field(&form, "method").filter(|m| matches!(*m, "EMAIL_OTP" | "SMS_OTP")) {
            if username.is_empty() {
                return sign_in_page(&flow, &username, Some("Enter your username."), None);
            }
            let step = services.code_sign_in(&flow.ctx, &username, factor);
            return finish(&services, &flow, step, |msg| sign_in_page(&flow, &username, Some(msg), None));
        }
        if username.is_empty() || password.is_empty() {
            return sign_in_page(&flow, &username, Some("Enter your username and password."), None);
        }
        let step = services.password_sign_in(&flow.ctx, &username, password);
        finish(&services, &flow, step, |msg| sign_in_page(&flow, &username, Some(msg), None))
    })
    .await;
    result.unwrap_or_else(|r| r)
}
