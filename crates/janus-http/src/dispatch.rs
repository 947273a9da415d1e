//! `POST /`: one Cognito JSON 1.1 call from the wire to a handler and back. Order: read the
//! size-limited body, resolve `X-Amz-Target`, authenticate (SigV4 for administrator
//! operations), parse and validate the JSON against the model, run the handler on the
//! blocking pool, and render the result or the error in Cognito's shape. Every response
//! carries `x-amzn-RequestId`; only an internal fault is a 500, and its cause goes to the log.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;

use janus_crypto::random;
use janus_types::Error;

use crate::ops::{Auth, Handler};
use crate::{sigv4, AppState, MAX_BODY};
use janus_core::placement::Access;

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
/// Janus's own operations (failover, replication status), same protocol and SigV4.
const JANUS_PREFIX: &str = "JanusAdmin.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

pub async fn cognito(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let started = std::time::Instant::now();
    let request_id = random::uuid_v4(&*st.services.rng);
    let (parts, body) = req.into_parts();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let op_name = target.strip_prefix(TARGET_PREFIX).unwrap_or(&target).to_owned();
    let mut known: (&'static str, Option<&'static str>) = ("unknown", None);
    let result = async {
        let body = read_body(body, &parts.headers).await?;
        let op = resolve(&st, &target)?;
        known.0 = op.name;
        if op.auth == Auth::Admin {
            let signed = sigv4::Request {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query().unwrap_or(""),
                headers: &parts.headers,
                body: &body,
            };
            sigv4::verify(&st.admin, &signed, st.services.now_ms())?;
        }
        let input = parse_json(&body)?;
        known.1 = crate::telemetry::flow_of(op.name, &input);
        st.model.validate(op.name, &input)?;
        let replicator = st.replicator.clone();
        let work = move || -> Result<Value, Error> {
            let services = &replicator.services;
            let pools = match op.access {
                Access::Global => vec![],
                _ => services.pools_of_request(&input)?,
            };
            for pool in &pools {
                admit(&replicator, pool, op.name, op.access)?;
            }
            let pool = pools.into_iter().next();
            let out = match op.handler {
                Handler::Local(f) => f(services, input)?,
                Handler::Replication(f) => f(&replicator, input)?,
            };
            // Only pools in synchronous mode wait (no extra read for the others).
            let synchronous = pool.as_ref().is_some_and(|p| p.replication.sync_timeout_ms.is_some());
            if let (true, Some(pool), Access::AdminWrite | Access::UserWrite) = (synchronous, &pool, op.access) {
                replicator.await_replicas(&pool.id)?;
            }
            Ok(out)
        };
        // A point read on the embedded store is a few local lookups: cheaper here than the
        // two thread hand-offs of a blocking task (a quarter of AdminGetUser's CPU went to
        // them; BENCHMARKS.md, issue 23). Everything else may wait on disk or network.
        if op.point_read && st.services.store.local_reads() {
            return std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .map_err(|_| Error::internal(anyhow::anyhow!("handler panicked")))?;
        }
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Error::internal(anyhow::anyhow!("handler panicked: {e}")))?
    }
    .await;
    let result = result.map_err(|e| st.model.modelled(known.0, e));
    let took = started.elapsed();
    let outcome = result.as_ref().map_or_else(|e| e.code(), |_| "ok");
    let challenged = result.as_ref().is_ok_and(|v| v.get("ChallengeName").is_some());
    let locked = result.as_ref().is_err_and(|e| e.to_string().contains("attempts exceeded"));
    st.telemetry.record(known.0, outcome, took, known.1.map(|f| (f, challenged)), locked);
    tracing::info!(target: "janus::request", request_id = %request_id, op = known.0, outcome,
        duration_ms = took.as_secs_f64() * 1000.0, "request");
    respond(&request_id, &op_name, result)
}

/// May `op` run on `pool` in this region: its role allows it, and a write happens only where
/// the primary still holds its write lease. Every way into a write (the Cognito endpoint, the
/// hosted pages) asks this.
pub(crate) fn admit(
    replicator: &janus_repl::Replicator,
    pool: &janus_types::Pool,
    op: &str,
    access: Access,
) -> Result<(), Error> {
    replicator.services.check_access(pool, op, access)?;
    let writes = matches!(access, Access::AdminWrite | Access::UserWrite);
    if writes && replicator.services.is_primary(pool) && !replicator.holds_lease(pool) {
        return Err(Error::OperationNotEnabledException(
            "This region cannot reach the witness or any replica of this user pool, so it \
             has stopped taking writes for it (a secondary may have been promoted)."
                .into(),
        ));
    }
    Ok(())
}

async fn read_body(body: Body, headers: &axum::http::HeaderMap) -> Result<Bytes, Error> {
    let too_large = || Error::invalid(format!("Request body is larger than {MAX_BODY} bytes."));
    let declared = headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(too_large());
    }
    // The limits middleware meters the body: its budget and its deadline (`crate::limits`).
    to_bytes(body, MAX_BODY).await.map_err(|e| match crate::limits::refusal(&e) {
        Some(r @ crate::limits::BodyRefused::Busy) => Error::TooManyRequestsException(r.to_string()),
        Some(crate::limits::BodyRefused::TooSlow) => Error::invalid("The request body was not received in time."),
        None => too_large(),
    })
}

fn resolve(st: &AppState, target: &str) -> Result<crate::ops::Operation, Error> {
    if target.starts_with(JANUS_PREFIX) {
        return st
            .ops
            .get(target)
            .copied()
            .ok_or_else(|| Error::UnknownOperationException(format!("Unknown operation: {target}")));
    }
    let Some(name) = target.strip_prefix(TARGET_PREFIX) else {
        return Err(Error::UnknownOperationException(format!("Unknown target: {target:?}")));
    };
    match st.ops.get(name) {
        Some(op) => Ok(*op),
        None if st.model.has_operation(name) => {
            Err(Error::UnknownOperationException(format!("Janus does not implement {name} yet.")))
        }
        None => Err(Error::UnknownOperationException(format!("Unknown operation: {name}"))),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|e| Error::SerializationException(format!("Malformed JSON body: {e}")))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err(Error::SerializationException("The request body must be a JSON object.".into()))
    }
}

fn respond(request_id: &str, op: &str, result: Result<Value, Error>) -> Response {
    let (status, body, error_type) = match result {
        Ok(v) => (StatusCode::OK, v, None),
        Err(e) => {
            let status = if e.is_unavailable() {
                StatusCode::SERVICE_UNAVAILABLE
            } else if e.is_internal() {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::BAD_REQUEST
            };
            let message = if e.is_unavailable() {
                tracing::warn!(request_id, op, error = ?e, "store unavailable");
                "The service is unavailable; retry shortly.".to_owned()
            } else if e.is_internal() {
                tracing::error!(request_id, op, error = ?e, "internal error");
                "An internal error occurred.".to_owned()
            } else {
                tracing::debug!(request_id, op, code = e.code(), "request refused");
                e.to_string()
            };
            (status, json!({"__type": e.code(), "message": message}), Some(e.code()))
        }
    };
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(code) = error_type {
        h.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    resp
}
