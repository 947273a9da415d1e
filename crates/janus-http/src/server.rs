//! The connection loop: HTTP/1.1 over hyper with a header read timeout (a client that never
//! finishes its request head is dropped, not kept forever), a bound on connections open at
//! once and on each connection's read buffer (`crate::limits`), and a graceful shutdown that
//! stops accepting, lets in-flight requests finish, and gives up on the stragglers after a
//! grace period so SIGTERM always ends the process.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a client may take to send a request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The most a connection buffers of what it reads (hyper's default grows to about 400 KiB).
pub const READ_BUFFER: usize = 64 * 1024;

/// Serve `app` on `listener` until `shutdown` completes, then drain for at most `grace`.
/// At most `max_connections` are open at once: one more is closed as soon as it is accepted.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    max_connections: usize,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections));
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT).keep_alive(true).max_buf_size(READ_BUFFER);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::debug!(max_connections, "connection refused: too many open");
                    drop(stream);
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _slot = slot;
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(grace_s = grace.as_secs(), "connections still open after the grace period; closing them");
        }
    }
}
