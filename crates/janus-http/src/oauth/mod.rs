//! The OAuth 2.0 / OpenID Connect endpoints and the hosted pages, reachable two ways:
//! - by Host header: a pool's prefix domain `<prefix>.auth.<region>.<domain base>` or its
//!   custom domain, with Cognito's paths (`/oauth2/authorize`, `/oauth2/token`,
//!   `/oauth2/userInfo`, `/oauth2/revoke`, `/login`, `/logout`, …);
//! - by path prefix, for local use: `/oauth/<pool id or domain>/oauth2/token` and so on.
//!
//! [`Site`] is the pool a request is for and the path prefix its links use. Errors here are
//! RFC 6749 JSON (`error`, `error_description`), a redirect with error parameters, or an
//! HTML page — never a Cognito error.

// A ready `Response` is the error of these handlers' helpers (axum's idiom); its size
// does not matter on a path that ends the request.
#![allow(clippy::result_large_err)]

pub(crate) mod endpoints;
pub mod site;

use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

use crate::pages;
use crate::AppState;

/// The routes under one base (`""` for domains, `/oauth/{site}` for the path prefix).
fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/oauth2/authorize", get(endpoints::authorize))
        .route("/oauth2/token", post(endpoints::token))
        .route("/oauth2/userInfo", get(endpoints::userinfo).post(endpoints::userinfo))
        .route("/oauth2/revoke", post(endpoints::revoke))
        .route("/logout", get(endpoints::logout))
        .route("/.well-known/openid-configuration", get(endpoints::discovery))
        .merge(pages::routes())
}

/// Both ways in.
pub fn router() -> Router<Arc<AppState>> {
    Router::new().nest("/oauth/{site}", routes()).merge(routes())
}
