//! CORS for the endpoints a browser application calls from its own origin (issue 15): the
//! Cognito API (`POST /`, as Amplify and amazon-cognito-identity-js call it), and the OAuth
//! token, userInfo and revocation endpoints and the discovery documents (a single-page app
//! redeems its PKCE code and reads the JWKS itself). As Cognito's public endpoints do: any
//! origin, no credentials (nothing here is authenticated by a cookie), the request headers the
//! SDKs send, and the `x-amzn-*` response headers they read exposed. A preflight is answered
//! here, before routing; every other path (the hosted pages, replication, operations) sends no
//! CORS header, so browsers keep them same-origin.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Request headers a browser may send cross-origin.
const ALLOW_HEADERS: &str = "authorization, content-type, x-amz-target, x-amz-user-agent, x-amz-date, \
     x-amz-security-token, x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request, cache-control";
/// Response headers a browser may read.
const EXPOSE_HEADERS: &str = "x-amzn-requestid, x-amzn-errortype, x-amzn-errormessage, date";
/// How long a browser may cache a preflight.
const MAX_AGE_SECS: &str = "86400";

/// True for the paths browsers may call from another origin.
fn cross_origin(path: &str) -> bool {
    path == "/"
        || [
            "/oauth2/token",
            "/oauth2/userInfo",
            "/oauth2/revoke",
            "/.well-known/jwks.json",
            "/.well-known/openid-configuration",
        ]
        .iter()
        .any(|p| path.ends_with(p))
}

/// The middleware.
pub async fn cors(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !cross_origin(path) || !req.headers().contains_key(header::ORIGIN) {
        return next.run(req).await;
    }
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let methods = if path == "/" { "POST, OPTIONS" } else { "GET, POST, OPTIONS" };
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
        return resp;
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_browser_endpoints_are_cross_origin() {
        for p in ["/", "/oauth/us-east-1_a/oauth2/token", "/oauth2/userInfo", "/us-east-1_a/.well-known/jwks.json"] {
            assert!(super::cross_origin(p), "{p}");
        }
        for p in ["/login", "/replication/v1/pools/x/changes", "/metrics", "/oauth2/authorize", "/health"] {
            assert!(!super::cross_origin(p), "{p}");
        }
    }
}
