//! `/health` (the process answers) and `/ready` (this region can serve end users now), for
//! load balancers, DNS health checkers and Kubernetes probes (docs/failover.md), and the gate
//! that makes a region taken out of service (`JanusAdmin.SetAvailability`) refuse traffic as
//! if it were down, answering only `/health`, `/metrics`, `/ready` and `JanusAdmin.*`.

use axum::extract::{Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

use janus_repl::health::Want;
use janus_types::PoolId;

use crate::AppState;

pub async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

#[derive(Deserialize)]
pub struct ReadyQuery {
    pool: Option<String>,
    role: Option<String>,
}

/// 200 when ready, 503 when not; the body says why, per pool, either way.
pub async fn ready(State(st): State<Arc<AppState>>, Query(q): Query<ReadyQuery>) -> Response {
    let want = match q.role.as_deref() {
        None | Some("any") | Some("serve") => Want::Serve,
        Some("primary") => Want::Primary,
        Some(other) => return bad(format!("role must be primary or any, not {other:?}")),
    };
    let pool = match q.pool.as_deref().map(PoolId::parse).transpose() {
        Ok(p) => p,
        Err(_) => return bad("bad pool id".into()),
    };
    let r = st.replicator.clone();
    match tokio::task::spawn_blocking(move || r.readiness(pool.as_ref(), want)).await {
        Ok(Ok(ready)) => {
            let status = if ready.ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            (status, Json(ready)).into_response()
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check could not read the store");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"Ready": false, "Reason": "store unavailable"})))
                .into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

fn bad(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg}))).into_response()
}

/// Refuse everything but the health, metrics and Janus administration surface while the
/// region is out of service.
pub async fn gate(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if st.replicator.available() || always_open(&req) {
        return next.run(req).await;
    }
    let why = "This region is out of service (JanusAdmin.SetAvailability).";
    if req.headers().contains_key("x-amz-target") {
        let body = json!({"__type": "ServiceUnavailableException", "message": why});
        return (StatusCode::SERVICE_UNAVAILABLE, [("content-type", "application/x-amz-json-1.1")], body.to_string())
            .into_response();
    }
    // The OAuth endpoints and pages answer in RFC 6749's shape, never Cognito's.
    let body = json!({"error": "temporarily_unavailable", "error_description": why});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

fn always_open(req: &Request) -> bool {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/health" | "/metrics" | "/ready") => true,
        (&Method::POST, "/") => req
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .map(|t| t.strip_prefix("AWSCognitoIdentityProviderService.").unwrap_or(t))
            .is_some_and(|t| t.starts_with("JanusAdmin.")),
        _ => false,
    }
}
