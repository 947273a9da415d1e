//! The witness (`janus witness`): a tiny third-region process that breaks ties. Regions
//! heartbeat it (`POST /witness/v1/heartbeat/{region}`); a secondary about to promote asks
//! how long ago it last heard from the primary (`GET /witness/v1/seen/{region}`). It keeps
//! nothing on disk: after a restart it has seen no one, which only holds promotions back.
//! Both calls need the replication secret.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use janus_repl::peer::SECRET_HEADER;
use janus_types::RegionName;

/// Regions the witness remembers at most (a deployment has a handful).
const MAX_REGIONS: usize = 256;

/// What the witness remembers.
pub struct Witness {
    secret: String,
    seen: Mutex<HashMap<RegionName, Instant>>,
}

/// The witness's HTTP application.
pub fn witness_router(secret: String) -> Router {
    let state = Arc::new(Witness { secret, seen: Mutex::new(HashMap::new()) });
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/witness/v1/heartbeat/{region}", post(heartbeat))
        .route("/witness/v1/seen/{region}", get(seen))
        .with_state(state)
}

fn admit(w: &Witness, headers: &HeaderMap, region: &str) -> Result<RegionName, (StatusCode, &'static str)> {
    let sent = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let same = janus_crypto::same_secret(sent.as_bytes(), w.secret.as_bytes());
    if w.secret.is_empty() || !same {
        return Err((StatusCode::FORBIDDEN, "replication secret missing or wrong"));
    }
    RegionName::parse(region).map_err(|_| (StatusCode::BAD_REQUEST, "bad region"))
}

async fn heartbeat(State(w): State<Arc<Witness>>, headers: HeaderMap, Path(region): Path<String>) -> Response {
    match admit(&w, &headers, &region) {
        Ok(region) => {
            let mut seen = w.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.len() >= MAX_REGIONS && !seen.contains_key(&region) {
                return (StatusCode::TOO_MANY_REQUESTS, Json(json!({"error": "too many regions"}))).into_response();
            }
            seen.insert(region, Instant::now());
            Json(json!({})).into_response()
        }
        Err((status, why)) => (status, Json(json!({"error": why}))).into_response(),
    }
}

async fn seen(State(w): State<Arc<Witness>>, headers: HeaderMap, Path(region): Path<String>) -> Response {
    match admit(&w, &headers, &region) {
        Ok(region) => {
            let age =
                w.seen.lock().unwrap_or_else(|p| p.into_inner()).get(&region).map(|t| t.elapsed().as_millis() as u64);
            Json(json!({"region": region, "age_ms": age})).into_response()
        }
        Err((status, why)) => (status, Json(json!({"error": why}))).into_response(),
    }
}
