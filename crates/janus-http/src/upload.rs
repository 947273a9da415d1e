//! `PUT /import/<pool>/<job>?token=…`: the pre-signed URL a user import job returns, as
//! S3's would be used (`curl -T users.csv -H 'x-amz-server-side-encryption: aws:kms' URL`).
//! The token proves the URL; the body streams into sealed chunks of whole lines (at most
//! about 2 MiB held), each stored as it arrives. The route is outside the shared body
//! budget (it holds a chunk, not the body) but keeps a deadline between frames.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::Router;
use http_body::Body as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use janus_core::imports::upload::Chunker;
use janus_core::Services;
use janus_types::{Error, PoolId};

use crate::AppState;

/// The longest wait for the next piece of the body.
const IDLE: Duration = Duration::from_secs(30);

/// The upload route.
pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/import/{pool}/{job}", put(upload))
}

fn refuse(e: &Error) -> Response {
    let status = match e {
        Error::NotAuthorizedException(_) => StatusCode::FORBIDDEN,
        Error::PreconditionNotMetException(_) => StatusCode::CONFLICT,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, format!("{e}\n")).into_response()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f).await.map_err(Error::internal)?
}

async fn upload(
    State(state): State<Arc<AppState>>,
    Path((pool, job)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    match receive(state.services.clone(), pool, job, q.get("token").cloned().unwrap_or_default(), body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => refuse(&e),
    }
}

async fn receive(s: Services, pool: String, job: String, token: String, mut body: Body) -> Result<(), Error> {
    let pool =
        PoolId::parse(&pool).map_err(|_| Error::NotAuthorizedException("The upload URL is not valid.".into()))?;
    let (s2, p2, j2) = (s.clone(), pool.clone(), job.clone());
    blocking(move || s2.check_upload(&p2, &j2, &token)).await?;
    let mut chunker = Chunker::default();
    let mut n = 0u32;
    loop {
        let frame = tokio::time::timeout(IDLE, std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)))
            .await
            .map_err(|_| Error::invalid("The upload stalled."))?;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|_| Error::invalid("The upload was cut off."))?;
        let Ok(data) = frame.into_data() else { continue };
        for chunk in chunker.push(&data)? {
            store(&s, &pool, &job, n, chunk).await?;
            n += 1;
        }
    }
    if let Some(last) = chunker.finish()? {
        store(&s, &pool, &job, n, last).await?;
        n += 1;
    }
    blocking(move || s.finish_upload(&pool, &job, n)).await
}

async fn store(s: &Services, pool: &PoolId, job: &str, n: u32, chunk: String) -> Result<(), Error> {
    let (s, pool, job) = (s.clone(), pool.clone(), job.to_owned());
    blocking(move || s.put_upload_chunk(&pool, &job, n, &chunk)).await
}
