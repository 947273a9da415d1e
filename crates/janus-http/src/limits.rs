//! Resource limits against unauthenticated memory exhaustion (issue 13: 2,500 connections
//! each holding a nearly complete 1 MiB body took the process to 2.9 GB). Three bounds:
//! - connections: at most [`Limits::max_connections`] at once; one more is closed at accept;
//! - request bodies: every body may buffer [`FREE_BYTES`] on its own (a Cognito call is a few
//!   KiB), and anything beyond comes out of one shared budget of
//!   [`Limits::body_budget_bytes`]. A body that declares a length the budget cannot hold is
//!   refused before a byte of it is read; one that grows past it is cut off. What a request
//!   drew is given back once its response is ready (its bytes live until the handler is done);
//! - time: a body must arrive within [`BODY_TIMEOUT`].
//!
//! So an attacker's bodies share one bounded pool of memory while ordinary calls, which
//! never leave their free allowance, keep being served.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Bytes of body every request may buffer without drawing on the shared budget.
pub const FREE_BYTES: usize = 16 * 1024;
/// How long a client may take to send its body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(15);

/// The limits of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Body bytes beyond each request's free allowance buffered at once, all requests together.
    pub body_budget_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_connections: 4096, body_budget_bytes: 64 * 1024 * 1024 }
    }
}

/// The shared body budget.
#[derive(Debug)]
pub struct BodyBudget {
    left: AtomicUsize,
}

impl BodyBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Arc<Self> {
        Arc::new(Self { left: AtomicUsize::new(bytes) })
    }

    fn take(&self, n: usize) -> bool {
        self.left.fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| left.checked_sub(n)).is_ok()
    }

    fn give(&self, n: usize) {
        self.left.fetch_add(n, Ordering::AcqRel);
    }
}

/// Why a body was refused: the budget is spent, or it came too slowly.
#[derive(Debug)]
pub enum BodyRefused {
    /// Too many large bodies are being received at once.
    Busy,
    /// The body did not arrive within [`BODY_TIMEOUT`].
    TooSlow,
}

impl std::fmt::Display for BodyRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BodyRefused::Busy => "too many large request bodies are being received; retry shortly",
            BodyRefused::TooSlow => "the request body was not received in time",
        })
    }
}

impl std::error::Error for BodyRefused {}

/// What one request drew from the budget, given back when the last holder lets go: the body
/// while it is read, and the middleware until the response is ready.
struct Drawn {
    budget: Arc<BodyBudget>,
    bytes: AtomicUsize,
}

impl Drawn {
    /// Draw enough for `total` bytes received in all.
    fn cover(&self, total: usize) -> bool {
        let needed = total.saturating_sub(FREE_BYTES);
        let have = self.bytes.load(Ordering::Acquire);
        if needed <= have {
            return true;
        }
        if !self.budget.take(needed - have) {
            return false;
        }
        self.bytes.store(needed, Ordering::Release);
        true
    }
}

impl Drop for Drawn {
    fn drop(&mut self) {
        self.budget.give(*self.bytes.get_mut());
    }
}

/// A request body that draws on the budget as it arrives.
struct Metered {
    inner: Body,
    drawn: Arc<Drawn>,
    /// Bytes received so far.
    seen: usize,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for Metered {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, Bytes::len);
                this.seen += len;
                if !this.drawn.cover(this.seen) {
                    return Poll::Ready(Some(Err(axum::Error::new(BodyRefused::Busy))));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyRefused::TooSlow)))),
                Poll::Pending => Poll::Pending,
            },
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The middleware: meter every request body; refuse at once one whose declared length the
/// budget cannot hold.
pub async fn meter(State(budget): State<Arc<BodyBudget>>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/import/") {
        return next.run(req).await; // holds a chunk at a time, not the body (crate::upload)
    }
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let drawn = Arc::new(Drawn { budget, bytes: AtomicUsize::new(0) });
    // A declared length larger than any endpoint takes is left to the endpoint to refuse.
    if let Some(n) = declared.filter(|n| *n <= crate::MAX_BODY) {
        if !drawn.cover(n) {
            tracing::debug!(declared = n, "request body refused: the shared body budget is spent");
            return busy(parts.uri.path());
        }
    }
    let deadline = Box::pin(tokio::time::sleep(BODY_TIMEOUT));
    let metered = Metered { inner: body, drawn: drawn.clone(), seen: 0, deadline };
    let response = next.run(Request::from_parts(parts, Body::new(metered))).await;
    drop(drawn); // the handler is done with the bytes
    response
}

/// The answer when the budget is spent: Cognito's throttling error on the Cognito endpoint,
/// a plain 503 elsewhere; either way the connection is closed so its buffers go.
fn busy(path: &str) -> Response {
    let mut resp = if path == "/" {
        let body = serde_json::json!({"__type": "TooManyRequestsException", "message": BodyRefused::Busy.to_string()});
        let mut r = (StatusCode::BAD_REQUEST, body.to_string()).into_response();
        r.headers_mut().insert("content-type", HeaderValue::from_static("application/x-amz-json-1.1"));
        r.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("TooManyRequestsException"));
        r
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, BodyRefused::Busy.to_string()).into_response()
    };
    resp.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
    resp.headers_mut().insert("connection", HeaderValue::from_static("close"));
    resp
}

/// Why a body could not be read, when the limits refused it (anywhere in the error's chain).
pub fn refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyRefused> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<BodyRefused>() {
            return Some(r);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_given_back() {
        let b = BodyBudget::new(100);
        let drawn = |b: &Arc<BodyBudget>| Drawn { budget: b.clone(), bytes: AtomicUsize::new(0) };
        let a = drawn(&b);
        assert!(a.cover(FREE_BYTES), "the free allowance costs nothing");
        assert!(a.cover(FREE_BYTES + 60));
        let c = drawn(&b);
        assert!(!c.cover(FREE_BYTES + 60), "only 40 left");
        assert!(c.cover(FREE_BYTES + 40));
        drop(a);
        drop(c);
        assert!(drawn(&b).cover(FREE_BYTES + 100), "all of it given back");
    }

    /// The body stream itself: frames draw as they arrive, a frame past the budget ends the
    /// body with [`BodyRefused::Busy`], which [`refusal`] finds in the error chain.
    #[test]
    fn a_body_past_the_budget_is_cut_off() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(async {
            let b = BodyBudget::new(1000);
            let drawn = Arc::new(Drawn { budget: b.clone(), bytes: AtomicUsize::new(0) });
            let big = Body::from(vec![b'x'; FREE_BYTES + 2000]);
            let deadline = Box::pin(tokio::time::sleep(BODY_TIMEOUT));
            let metered = Metered { inner: big, drawn: drawn.clone(), seen: 0, deadline };
            let e = axum::body::to_bytes(Body::new(metered), usize::MAX).await.unwrap_err();
            assert!(matches!(refusal(&e), Some(BodyRefused::Busy)), "{e}");
            drop(drawn);
            assert_eq!(b.left.load(Ordering::Acquire), 1000, "given back");
        });
    }
}
