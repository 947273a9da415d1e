//! Which pool an OAuth request is for: from the `/oauth/<pool id or domain>` path prefix, or
//! from the Host header (a prefix domain under the configured domain base, or a custom
//! domain). Also the small HTTP helpers the endpoints and pages share: RFC 6749 error
//! bodies, redirects with query parameters, forms, cookies, and running blocking work.

use axum::extract::RawPathParams;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::sync::Arc;

use janus_core::oauth::OAuthError;
use janus_types::{Pool, PoolId};

use crate::AppState;

/// The pool a request is for, and the prefix of its own links.
#[derive(Clone)]
pub struct Site {
    /// The pool.
    pub pool: Pool,
    /// `""` (reached by domain) or `/oauth/<site>` (reached by path).
    pub base: String,
}

fn host_domain<'a>(host: &'a str, domain_base: &str) -> &'a str {
    let host =
        host.rsplit_once(':').map_or(host, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    // `<prefix>.auth.<region>.<domain base>`: the prefix; anything else: the whole host.
    if let Some(rest) = host.strip_suffix(domain_base).and_then(|r| r.strip_suffix('.')) {
        if let Some((prefix, tail)) = rest.split_once('.') {
            if tail.starts_with("auth.") || tail == "auth" {
                return prefix;
            }
        }
    }
    host
}

/// Resolve the site of a request, or `None` when it names no pool.
pub fn resolve(st: &AppState, params: &RawPathParams, headers: &HeaderMap) -> Result<Option<Site>, janus_types::Error> {
    let r = st.services.store.read()?;
    if let Some((_, key)) = params.iter().find(|(k, _)| *k == "site") {
        let base = format!("/oauth/{key}");
        if let Ok(id) = PoolId::parse(key) {
            if let Some(pool) = r.pool(&id)? {
                return Ok(Some(Site { pool, base }));
            }
        }
        return Ok(match r.domain(&key.to_ascii_lowercase())? {
            Some((id, _)) => r.pool(&id)?.map(|pool| Site { pool, base }),
            None => None,
        });
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let name = host_domain(&host, &st.oauth.domain_base);
    Ok(match r.domain(name)? {
        Some((id, _)) => r.pool(&id)?.map(|pool| Site { pool, base: String::new() }),
        None => None,
    })
}

/// An RFC 6749 error body (`invalid_client` is 401, `server_error` 500, others 400).
pub fn oauth_error(e: &OAuthError) -> Response {
    let status = match e {
        OAuthError::InvalidClient(_) | OAuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
        OAuthError::Server(cause) => {
            tracing::error!(error = ?cause, "OAuth endpoint failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let mut resp =
        (status, axum::Json(json!({"error": e.code(), "error_description": e.description()}))).into_response();
    no_store(resp.headers_mut());
    if let OAuthError::InvalidToken(_) = e {
        let v = format!("Bearer error=\"invalid_token\", error_description=\"{}\"", e.description().replace('"', "'"));
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    resp
}

/// The answer for a request naming no pool.
pub fn no_site() -> Response {
    oauth_error(&OAuthError::InvalidRequest("No user pool or domain at this address.".into()))
}

/// `Cache-Control: no-store` (tokens and pages with tokens in forms).
pub fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `uri` with `params` appended to its query.
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", q.finish())
}

/// A 302 to `location`.
pub fn redirect(location: &str) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    no_store(resp.headers_mut());
    resp
}

/// A cookie's value.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Run blocking work (store, signing) off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "OAuth handler panicked");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

/// What every OAuth handler needs.
pub type St = Arc<AppState>;

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_domains_come_from_the_host() {
        assert_eq!(super::host_domain("myapp.auth.us-east-1.amazoncognito.com", "amazoncognito.com"), "myapp");
        assert_eq!(super::host_domain("myapp.auth.us-east-1.localhost:9229", "localhost"), "myapp");
        assert_eq!(super::host_domain("login.example.com:443", "amazoncognito.com"), "login.example.com");
        assert_eq!(super::host_domain("evil.com", "amazoncognito.com"), "evil.com");
    }

    #[test]
    fn queries_are_appended() {
        assert_eq!(super::with_query("https://a/cb", &[("code", "x y")]), "https://a/cb?code=x+y");
        assert_eq!(super::with_query("https://a/cb?k=1", &[("state", "&")]), "https://a/cb?k=1&state=%26");
    }
}
