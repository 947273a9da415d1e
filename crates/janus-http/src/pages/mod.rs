//! The hosted pages: sign-in (`login`), the challenges the sign-in state machine returns
//! (`challenge`: NEW_PASSWORD_REQUIRED, and a generic code form for MFA), sign-up with a
//! confirmation code and forgot-password (`account`). Server-rendered HTML that works
//! without JavaScript; every form is CSRF-protected with a sealed double-submit token; the
//! authorization request travels sealed in a hidden field. Responses forbid framing and
//! caching and load nothing from elsewhere (CSP).

// A ready `Response` is the error of these handlers' helpers (axum's idiom); its size
// does not matter on a path that ends the request.
#![allow(clippy::result_large_err)]

mod account;
mod challenge;
pub mod html;
mod login;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

use janus_core::oauth::OAuthError;

use crate::AppState;
use html::{Brand, Frame};

/// The CSRF cookie over plain HTTP (a development set-up on loopback).
pub const CSRF_COOKIE: &str = "janus-csrf";
/// The CSRF cookie over HTTPS: `Secure`, and the `__Host-` prefix binds it to this host and
/// path `/` so a sibling domain cannot plant one.
pub const CSRF_COOKIE_SECURE: &str = "__Host-janus-csrf";

/// True when the browser reached Janus over HTTPS: a proxy in front says so
/// (`X-Forwarded-Proto: https`), or the issuer URL, which is Janus's public address, is https.
pub fn over_https(st: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let forwarded = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    forwarded.is_some_and(|p| p.trim().eq_ignore_ascii_case("https")) || st.services.issuer_base.starts_with("https://")
}

/// The CSRF cookie the browser sent. Over HTTPS only the `__Host-` one counts: a sibling
/// domain can plant a plain cookie, never a `__Host-` one.
pub fn csrf_cookie(st: &AppState, headers: &axum::http::HeaderMap) -> Option<String> {
    let name = if over_https(st, headers) { CSRF_COOKIE_SECURE } else { CSRF_COOKIE };
    crate::oauth::site::cookie(headers, name).map(str::to_owned)
}

fn csrf_set_cookie(value: &str, secure: bool, extra: &str) -> String {
    if secure {
        format!("{CSRF_COOKIE_SECURE}={value}; Path=/; Secure; HttpOnly; SameSite=Lax{extra}")
    } else {
        format!("{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{extra}")
    }
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/login", get(login::show).post(login::submit))
        .route("/login/challenge", axum::routing::post(challenge::submit))
        .route("/signup", get(account::signup_show).post(account::signup_submit))
        .route("/confirm", axum::routing::post(account::confirm_submit))
        .route("/forgotPassword", get(account::forgot_show).post(account::forgot_submit))
        .route("/confirmForgotPassword", axum::routing::post(account::reset_submit))
}

/// An HTML response with the pages' security headers.
pub fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    crate::oauth::site::no_store(h);
    resp
}

/// A page that tells the user the request cannot go on (never a redirect).
pub fn error_page(e: &OAuthError) -> Response {
    if let OAuthError::Server(cause) = e {
        tracing::error!(error = ?cause, "hosted page failed");
    }
    let brand = Brand::default();
    let msg = format!("{} ({})", e.description(), e.code());
    let f = Frame {
        title: "Something went wrong",
        pool_name: "Sign-in",
        client_name: None,
        brand: &brand,
        error: Some(&msg),
        info: None,
    };
    let status = if e.is_internal() { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
    html(status, html::page(&f, "<p>Return to the application and try again.</p>"))
}

/// Set the CSRF cookie (`secure`: see [`over_https`]).
pub fn set_csrf_cookie(resp: &mut Response, value: &str, secure: bool) {
    if let Ok(v) = HeaderValue::from_str(&csrf_set_cookie(value, secure, "")) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Drop the pages' cookies (logout).
pub fn clear_cookies(resp: &mut Response, secure: bool) {
    if let Ok(v) = HeaderValue::from_str(&csrf_set_cookie("", secure, "; Max-Age=0")) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}
