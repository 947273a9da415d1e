//! The connection loop: HTTP/1.1 over hyper with a header read timeout (a client that never
//! finishes its request head is dropped, not kept forever), a bound on connections open at
//! once and on each connection's read buffer (`crate::limits`), and a graceful shutdown that
//! stops accepting, lets in-flight requests finish, and gives up on the stragglers after a
//! grace period so SIGTERM always ends the process. With [`Tls`], every connection is TLS
//! first (a handshake not finished within [`HANDSHAKE_TIMEOUT`] is dropped).

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

use crate::tls::{Tls, HANDSHAKE_TIMEOUT};

/// How long a client may take to send a request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// The most a connection buffers of what it reads (hyper's default grows to about 400 KiB).
pub const READ_BUFFER: usize = 64 * 1024;

/// Serve `app` on `listener` until `shutdown` completes, then drain for at most `grace`.
/// At most `max_connections` are open at once: one more is closed as soon as it is accepted.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<Tls>>,
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
                let acceptor = tls.as_ref().map(|t| t.acceptor());
                let connection = connection(stream, acceptor, builder.clone(), app.clone(), graceful.watcher());
                tokio::spawn(async move {
                    let _slot = slot;
                    connection.await;
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

/// One connection, TLS first when `acceptor` is given, until it ends or shutdown drains it.
async fn connection(
    stream: TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    builder: http1::Builder,
    app: Router,
    watcher: hyper_util::server::graceful::Watcher,
) {
    let service = TowerToHyperService::new(app);
    let ended = match acceptor {
        None => watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await,
        Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => watcher.watch(builder.serve_connection(TokioIo::new(tls), service)).await,
            Ok(Err(e)) => return tracing::debug!(error = %e, "TLS handshake failed"),
            Err(_) => return tracing::debug!("TLS handshake not finished in time"),
        },
    };
    if let Err(e) = ended {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
