//! The replication endpoints regions call on each other, under `/replication/v1/pools/{pool}`:
//! `snapshot` (NDJSON), `changes?after=&wait_ms=` (long poll), `status` (a replica's report),
//! `host` / `unhost` (the primary asks a region to hold or drop a replica; `host` carries the
//! pool's wrapped data key, which the region must unwrap first), `key-check` (can this region
//! unwrap the pool's data key under a new key, before the pool moves to it), `replica-status`
//! (a secondary forwards UpdateUserPoolReplica), `regional` (a secondary's own settings from
//! UpdateUserPool), `digest`. Every call must carry the shared
//! replication secret; without one configured, all of them answer 403.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use janus_repl::wire::Endpoint;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

use janus_core::security::SecurityEvent;
use janus_repl::failover::Demote;
use janus_repl::peer::SECRET_HEADER;
use janus_repl::regional::RegionalUpdate;
use janus_repl::wire::{Host, ReplicaStatusUpdate, Status, Unhost};
use janus_repl::Replicator;
use janus_types::{Error, PoolId, Seq};

use crate::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(&Endpoint::Snapshot.route(), get(snapshot))
        .route(&Endpoint::Changes.route(), get(changes))
        .route(&Endpoint::Digest.route(), get(digest))
        .route(&Endpoint::Status.route(), post(status))
        .route(&Endpoint::Host.route(), post(host))
        .route(&Endpoint::Unhost.route(), post(unhost))
        .route(&Endpoint::KeyCheck.route(), post(key_check))
        .route(&Endpoint::ReplicaStatus.route(), post(replica_status))
        .route(&Endpoint::Head.route(), get(head))
        .route(&Endpoint::Demote.route(), post(demote))
        .route(&Endpoint::Security.route(), post(security))
        .route(&Endpoint::Regional.route(), post(regional))
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(json!({"error": msg.into()}))).into_response()
}

/// Check the secret, then parse the pool: nothing of a request is read before its secret.
#[allow(clippy::result_large_err)]
fn admit(st: &AppState, headers: &HeaderMap, pool: &str) -> Result<PoolId, Response> {
    let sent = headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !st.replicator.authorized(sent) {
        return Err(error(StatusCode::FORBIDDEN, "replication secret missing or wrong"));
    }
    PoolId::parse(pool).map_err(|_| error(StatusCode::BAD_REQUEST, "bad pool id"))
}

/// A domain error as an answer to another region.
fn failure(e: Error) -> Response {
    if e.is_internal() {
        tracing::error!(error = ?e, "replication endpoint failed");
        return error(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
    }
    error(StatusCode::BAD_REQUEST, format!("{}: {e}", e.code()))
}

/// Run `f` for an admitted pool on the blocking pool; `ok` renders its result.
async fn run<T: Send + 'static>(
    st: &Arc<AppState>,
    pool: PoolId,
    f: impl FnOnce(&Arc<Replicator>, PoolId) -> Result<T, Error> + Send + 'static,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    let r = st.replicator.clone();
    match tokio::task::spawn_blocking(move || f(&r, pool)).await {
        Ok(Ok(v)) => ok(v),
        Ok(Err(e)) => failure(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// A JSON answer to a call without a body.
async fn call<T: serde::Serialize + Send + 'static>(
    st: &Arc<AppState>,
    headers: &HeaderMap,
    pool: &str,
    f: impl FnOnce(&Arc<Replicator>, PoolId) -> Result<T, Error> + Send + 'static,
) -> Response {
    match admit(st, headers, pool) {
        Ok(pool) => run(st, pool, f, |v| Json(v).into_response()).await,
        Err(refused) => refused,
    }
}

/// A JSON answer to a call with a JSON body, which is read and parsed only once the secret
/// is checked: a caller without it never gets a byte of its body buffered.
async fn call_with<B: DeserializeOwned + Send + 'static, T: serde::Serialize + Send + 'static>(
    st: &Arc<AppState>,
    headers: &HeaderMap,
    pool: &str,
    body: Body,
    f: impl FnOnce(&Arc<Replicator>, PoolId, B) -> Result<T, Error> + Send + 'static,
) -> Response {
    let pool = match admit(st, headers, pool) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let bytes = match axum::body::to_bytes(body, crate::MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("request body not read: {e}")),
    };
    let input: B = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("malformed request body: {e}")),
    };
    run(st, pool, move |r, p| f(r, p, input), |v| Json(v).into_response()).await
}

/// The snapshot streams: a blocking task reads it in one read transaction and hands NDJSON
/// chunks through a small channel, so neither side holds the pool in memory. An error
/// before the first chunk is an ordinary error answer; a later one cuts the body short,
/// which the replica detects (the head line says how many entities follow).
async fn snapshot(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(pool): Path<String>) -> Response {
    let pool = match admit(&st, &headers, &pool) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, Error>>(4);
    let r = st.replicator.clone();
    tokio::task::spawn_blocking(move || {
        let gone = || Error::internal(std::io::Error::other("snapshot receiver went away"));
        let mut sink = |chunk: Vec<u8>| tx.blocking_send(Ok(chunk)).map_err(|_| gone());
        if let Err(e) = r.snapshot(&pool, &mut sink) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    match rx.recv().await {
        Some(Ok(first)) => {
            let chunks = ChunkStream { first: Some(first), rx };
            ([("content-type", "application/x-ndjson")], Body::from_stream(chunks)).into_response()
        }
        Some(Err(e)) => failure(e),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "snapshot ended before it began"),
    }
}

/// The snapshot's chunks as a body stream.
struct ChunkStream {
    first: Option<Vec<u8>>,
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, Error>>,
}

impl futures_core::Stream for ChunkStream {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if let Some(first) = self.first.take() {
            return std::task::Poll::Ready(Some(Ok(first.into())));
        }
        self.rx.poll_recv(cx).map(|item| {
            item.map(|chunk| {
                chunk.map(bytes::Bytes::from).map_err(|e| {
                    tracing::error!(error = ?e, "snapshot read failed mid-stream");
                    std::io::Error::other("snapshot read failed")
                })
            })
        })
    }
}

#[derive(Deserialize)]
struct ChangesQuery {
    after: u64,
    #[serde(default)]
    wait_ms: u64,
    region: Option<String>,
}

async fn changes(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(pool): Path<String>,
    Query(q): Query<ChangesQuery>,
) -> Response {
    call(&st, &headers, &pool, move |r, p| {
        r.changes(&p, Seq(q.after), Duration::from_millis(q.wait_ms), q.region.as_deref())
    })
    .await
}

async fn digest(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(pool): Path<String>) -> Response {
    call(&st, &headers, &pool, |r, p| r.digest(&p)).await
}

async fn status(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(pool): Path<String>, body: Body) -> Response {
    call_with(&st, &headers, &pool, body, |r, p, s: Status| r.record_status(&p, &s).map(|()| json!({}))).await
}

async fn host(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(pool): Path<String>, body: Body) -> Response {
    call_with(&st, &headers, &pool, body, |r, p, h: Host| r.host(&p, &h).map(|()| json!({}))).await
}

/// The primary asks whether this region can unwrap the pool's (new) data key.
async fn key_check(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(pool): Path<String>,
    body: Body,
) -> Response {
    call_with(&st, &headers, &pool, body, |r, p, dek: janus_types::WrappedDek| {
        r.check_replica_key(&p, &dek).map(|()| json!({}))
    })
    .await
}

async fn unhost(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(pool): Path<String>, body: Body) -> Response {
    call_with(&st, &headers, &pool, body, |r, p, u: Unhost| r.unhost(&p, &u).map(|()| json!({}))).await
}

async fn replica_status(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(pool): Path<String>,
    body: Body,
) -> Response {
    call_with(&st, &headers, &pool, body, |r, p, u: ReplicaStatusUpdate| {
        r.update_replica(&p, &u.region, &u.status).map(|_| json!({}))
    })
    .await
}

async fn regional(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(pool): Path<String>,
    body: Body,
) -> Response {
    call_with(&st, &headers, &pool, body, |r, p, u: RegionalUpdate| r.record_regional(&p, u).map(|()| json!({}))).await
}

async fn security(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(pool): Path<String>,
    body: Body,
) -> Response {
    // `{}` when recorded (what older regions answer), `{"verdict": "refused"}` for a used code.
    call_with(&st, &headers, &pool, body, |r, p, e: SecurityEvent| {
        r.services.apply_security_event(&p, &e).map(|v| match v {
            janus_core::security::Verdict::Recorded => json!({}),
            janus_core::security::Verdict::Refused => json!({"verdict": "refused"}),
        })
    })
    .await
}

async fn head(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(pool): Path<String>) -> Response {
    call(&st, &headers, &pool, |r, p| r.head(&p)).await
}

async fn demote(State(st): State<Arc<AppState>>, headers: HeaderMap, Path(pool): Path<String>, body: Body) -> Response {
    call_with(&st, &headers, &pool, body, |r, p, d: Demote| r.demote(&p, &d)).await
}
