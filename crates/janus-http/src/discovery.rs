//! OpenID Connect discovery and the JWKS, served under each pool's issuer path:
//! `<issuer base>/<pool id>/.well-known/openid-configuration` and `…/jwks.json`. Errors use
//! OAuth's shape here, not Cognito's.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

use janus_types::{Error, PoolId};

use crate::AppState;

async fn serve(
    st: Arc<AppState>,
    pool: String,
    f: fn(&janus_core::Services, &PoolId) -> Result<Value, Error>,
) -> Response {
    let Ok(pool) = PoolId::parse(&pool) else {
        return (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response();
    };
    let services = st.services.clone();
    match tokio::task::spawn_blocking(move || f(&services, &pool)).await {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) if !e.is_internal() => (StatusCode::NOT_FOUND, Json(json!({"error": "not_found"}))).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = ?e, "discovery failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "discovery panicked");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub async fn openid_configuration(State(st): State<Arc<AppState>>, Path(pool): Path<String>) -> Response {
    serve(st, pool, |s, p| s.openid_configuration(p)).await
}

pub async fn jwks(State(st): State<Arc<AppState>>, Path(pool): Path<String>) -> Response {
    serve(st, pool, |s, p| s.jwks(p)).await
}
