//! Connections to PostgreSQL through the async driver (tokio-postgres), each with its
//! prepared statements and the statements deferred to its next round trip (the pool that
//! leases them is [`super::pool`]). The store traits are synchronous and are
//! called from blocking threads, so a call here blocks its thread until PostgreSQL answers.
//!
//! A pooled connection's socket is polled by the very thread that waits for the answer (a
//! small single-threaded runtime per connection): a round trip then costs the calls on the
//! socket and nothing else, where a connection task on another thread would add two wake-ups
//! between threads to each one. The connections that must notice by themselves that the
//! server dropped them (the lease connection) are driven by a task on the store's own
//! runtime instead, which lives on a thread of its own and is dropped there, never inside
//! somebody else's async context (where dropping a runtime panics).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use anyhow::anyhow;
use bytes::BytesMut;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, Config, Connection, NoTls, Socket, Statement};

use janus_types::{Error, Result};

use crate::sql::{Arg, Row};

/// A runtime on its own thread; stops when dropped.
pub(crate) struct Runtime {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Runtime {
    pub(crate) fn start() -> anyhow::Result<Self> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("pg-io".into()).spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = handle_tx.send(Err(e));
                    return;
                }
            };
            let _ = handle_tx.send(Ok(rt.handle().clone()));
            let _ = rt.block_on(stopped);
            rt.shutdown_timeout(Duration::from_secs(1));
        })?;
        let handle = handle_rx.recv().map_err(|_| anyhow!("the PostgreSQL runtime did not start"))??;
        Ok(Self { handle, stop: Some(stop) })
    }

    /// Run `f` to completion, blocking this thread. The store is meant to be called from
    /// blocking threads; a caller on an async worker thread (a handler that reads the store
    /// inline, as the embedded store lets it) is moved out of the executor first, instead of
    /// the runtime panicking.
    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        outside_executor(|| self.handle.block_on(f))
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

/// Run `f`, which blocks, off the async executor when called from one of its worker threads.
fn outside_executor<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A driver error as the domain sees it: a lost or refused connection is
/// [`Error::Unavailable`] (HTTP 503, retry), anything else internal.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> Error {
    if is_unavailable(&e) {
        Error::Unavailable(e.into())
    } else {
        Error::internal(e)
    }
}

fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        // Class 08: connection exceptions; 57P01-03: the server shutting down or starting;
        // 53300: too many connections.
        let code = db.code().code();
        return code.starts_with("08") || code.starts_with("57P") || code == "53300";
    }
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) || e.to_string().contains("timed out")
}

impl ToSql for Arg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Arg::Text(s) => s.to_sql(ty, out),
            Arg::Int(n) => n.to_sql(ty, out),
            Arg::OptText(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <&str as ToSql>::accepts(ty) || <i64 as ToSql>::accepts(ty)
    }

    tokio_postgres::types::to_sql_checked!();
}

impl Row for tokio_postgres::Row {
    fn text(&self, i: usize) -> Result<String> {
        self.try_get(i).map_err(pg_err)
    }

    fn int(&self, i: usize) -> Result<i64> {
        self.try_get(i).map_err(pg_err)
    }
}

/// `?N` placeholders (the shared SQL's) as PostgreSQL's `$N`.
fn dollar(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A parameter owned by a statement whose sending is deferred.
enum Owned {
    Text(String),
    Int(i64),
    OptText(Option<String>),
}

impl Owned {
    fn of(a: &Arg<'_>) -> Self {
        match a {
            Arg::Text(s) => Owned::Text((*s).to_owned()),
            Arg::Int(n) => Owned::Int(*n),
            Arg::OptText(s) => Owned::OptText(s.map(str::to_owned)),
        }
    }

    fn arg(&self) -> Arg<'_> {
        match self {
            Owned::Text(s) => Arg::Text(s),
            Owned::Int(n) => Arg::Int(*n),
            Owned::OptText(s) => Arg::OptText(s.as_deref()),
        }
    }
}

/// A statement whose answer nobody waits for: it is sent with the next statement that does
/// need an answer, in one pipeline (one round trip for all of them), and its error, if any,
/// is that statement's error.
enum Deferred {
    Simple(String),
    Exec(Statement, Vec<Owned>),
    /// A query whose rows are kept in the slot once they arrive.
    Query(Statement, Vec<Owned>, Slot),
}

/// Where a deferred query's rows land.
pub(crate) type Slot = std::sync::Arc<Mutex<Option<Vec<tokio_postgres::Row>>>>;

/// One connection, its prepared statements and what is waiting to be sent.
pub(crate) struct PgConn {
    client: Client,
    driver: Driver,
    statements: HashMap<String, Statement>,
    deferred: Vec<Deferred>,
}

type Io = Connection<Socket, NoTlsStream>;

/// Who polls a connection's socket.
enum Driver {
    /// A task on the store's runtime.
    Background,
    /// The thread that waits for an answer, on the connection's own runtime; `io` is `None`
    /// once the connection has ended (dropping it fails every request still waiting).
    Inline { rt: InlineRt, io: Option<Pin<Box<Io>>> },
}

/// A connection's own runtime. It may be dropped on an async worker thread (a store dropped
/// while the server unwinds from an error), where dropping a runtime the usual way panics;
/// it runs no task of its own, so it is shut down without waiting.
struct InlineRt(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for InlineRt {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref().expect("present until drop")
    }
}

impl Drop for InlineRt {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Run `f` (a request on the connection) to its end, the socket polled as `driver` says.
fn drive<F: Future>(driver: &mut Driver, shared: &Runtime, f: F) -> F::Output {
    match driver {
        Driver::Background => shared.block_on(f),
        Driver::Inline { rt, io } => outside_executor(|| rt.block_on(with_io(io, f))),
    }
}

/// `f`, with the connection's socket polled while it waits. The request goes into the
/// connection's queue when `f` is first polled; polling the connection then writes it, and
/// reads and hands out the answers.
async fn with_io<F: Future>(io: &mut Option<Pin<Box<Io>>>, f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| loop {
        if let Poll::Ready(out) = f.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        let Some(conn) = io.as_mut() else { return Poll::Pending };
        match conn.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(ended) => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "PostgreSQL connection ended");
                }
                // Dropped, it fails the requests still waiting: `f` ends with that error.
                *io = None;
            }
        }
    })
    .await
}

/// Send every deferred statement, in order, and wait for all their answers.
async fn run_deferred(client: &Client, deferred: &[Deferred]) -> std::result::Result<(), tokio_postgres::Error> {
    let sends = deferred.iter().map(|d| async move {
        match d {
            Deferred::Simple(sql) => client.batch_execute(sql).await,
            Deferred::Exec(stmt, owned) => {
                let args: Vec<Arg<'_>> = owned.iter().map(Owned::arg).collect();
                let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
                client.execute(stmt, &params).await.map(drop)
            }
            Deferred::Query(stmt, owned, slot) => {
                let args: Vec<Arg<'_>> = owned.iter().map(Owned::arg).collect();
                let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
                let rows = client.query(stmt, &params).await?;
                *lock(slot) = Some(rows);
                Ok(())
            }
        }
    });
    // join_all polls every future once before waiting on any, so every request is on the
    // wire, in order, before the first answer is awaited.
    for r in futures_util::future::join_all(sends).await {
        r?;
    }
    Ok(())
}

impl PgConn {
    fn statement(&mut self, rt: &Runtime, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        // Whatever was deferred goes first, in the same round trip: the statements must reach
        // the server in order (a deferred `ROLLBACK TO SAVEPOINT` that ends an aborted
        // subtransaction must precede the `Parse`, which an aborted transaction refuses).
        let deferred = std::mem::take(&mut self.deferred);
        let text = dollar(sql);
        let (before, prepared) = drive(
            &mut self.driver,
            rt,
            futures_util::future::join(run_deferred(&self.client, &deferred), self.client.prepare(&text)),
        );
        before.map_err(pg_err)?;
        let s = prepared.map_err(pg_err)?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub(crate) fn exec(&mut self, rt: &Runtime, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
        let stmt = self.statement(rt, sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let deferred = std::mem::take(&mut self.deferred);
        let client = &self.client;
        let (before, this) = drive(
            &mut self.driver,
            rt,
            futures_util::future::join(run_deferred(client, &deferred), client.execute(&stmt, &params)),
        );
        before.map_err(pg_err)?;
        this.map_err(pg_err)
    }

    pub(crate) fn query(&mut self, rt: &Runtime, sql: &str, args: &[Arg<'_>]) -> Result<Vec<tokio_postgres::Row>> {
        let stmt = self.statement(rt, sql)?;
        let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
        let deferred = std::mem::take(&mut self.deferred);
        let client = &self.client;
        let (before, this) = drive(
            &mut self.driver,
            rt,
            futures_util::future::join(run_deferred(client, &deferred), client.query(&stmt, &params)),
        );
        before.map_err(pg_err)?;
        this.map_err(pg_err)
    }

    /// Statements without parameters, as one simple query (`BEGIN`, `COMMIT`, DDL), after
    /// whatever was deferred.
    pub(crate) fn batch(&mut self, rt: &Runtime, sql: &str) -> Result<()> {
        let deferred = std::mem::take(&mut self.deferred);
        let client = &self.client;
        let (before, this) = drive(
            &mut self.driver,
            rt,
            futures_util::future::join(run_deferred(client, &deferred), client.batch_execute(sql)),
        );
        before.map_err(pg_err)?;
        this.map_err(pg_err)
    }

    /// Send `sql` (no parameters) with the next statement that waits for an answer.
    pub(crate) fn defer_simple(&mut self, sql: &str) {
        self.deferred.push(Deferred::Simple(sql.to_owned()));
    }

    /// Send a statement with the next one that waits for an answer (its row count is not
    /// wanted).
    pub(crate) fn defer_exec(&mut self, rt: &Runtime, sql: &str, args: &[Arg<'_>]) -> Result<()> {
        let stmt = self.statement(rt, sql)?;
        self.deferred.push(Deferred::Exec(stmt, args.iter().map(Owned::of).collect()));
        Ok(())
    }

    /// Send a query with the next statement that waits for an answer; its rows are in the
    /// returned slot once that statement has its answer.
    pub(crate) fn defer_query(&mut self, rt: &Runtime, sql: &str, args: &[Arg<'_>]) -> Result<Slot> {
        let stmt = self.statement(rt, sql)?;
        let slot = Slot::default();
        self.deferred.push(Deferred::Query(stmt, args.iter().map(Owned::of).collect(), slot.clone()));
        Ok(slot)
    }

    /// End a transaction with `sql`. One that never sent anything (its `BEGIN` still
    /// waiting) ends without a round trip: a commit of nothing, or a rollback of what was
    /// never sent.
    pub(crate) fn end(&mut self, rt: &Runtime, sql: &str) -> Result<()> {
        let unsent = matches!(self.deferred.first(), Some(Deferred::Simple(s)) if s.starts_with("BEGIN"));
        if unsent && (self.deferred.len() == 1 || sql == "ROLLBACK") {
            self.deferred.clear();
            return Ok(());
        }
        self.batch(rt, sql)
    }

    /// Whether the transaction in progress has sent nothing yet (its `BEGIN` still waits).
    pub(crate) fn nothing_sent(&self) -> bool {
        matches!(self.deferred.as_slice(), [Deferred::Simple(s)] if s.starts_with("BEGIN"))
    }

    /// Put `sql` (no parameters, after whatever was deferred) on the wire now, without
    /// waiting for its answer: the end of a read, whose `COMMIT` of nothing cannot fail in a
    /// way anybody acts on. tokio-postgres sends a request when its future is first polled
    /// and drops the answers of a request whose future is gone, so one poll here is enough,
    /// and the connection's next request is answered after this one, in order. (Left for
    /// the next statement instead, the `COMMIT` would leave an idle connection inside its
    /// transaction, holding back the server's cleanup of dead row versions — every update
    /// of a hot row then walks a longer chain.)
    pub(crate) fn send_and_forget(&mut self, sql: &str) {
        self.deferred.push(Deferred::Simple(sql.to_owned()));
        let deferred = std::mem::take(&mut self.deferred);
        let mut send = std::pin::pin!(run_deferred(&self.client, &deferred));
        match &mut self.driver {
            Driver::Background => {
                let mut cx = std::task::Context::from_waker(futures_util::task::noop_waker_ref());
                let _ = send.as_mut().poll(&mut cx);
            }
            Driver::Inline { rt, io } => outside_executor(|| {
                rt.block_on(std::future::poll_fn(|cx| {
                    let _ = send.as_mut().poll(cx);
                    if let Some(conn) = io.as_mut() {
                        if conn.as_mut().poll(cx).is_ready() {
                            *io = None;
                        }
                    }
                    Poll::Ready(())
                }))
            }),
        }
    }

    /// Notice, without waiting, whether the server has closed this idle connection (it
    /// restarted, or ended the session): read what has arrived on the socket meanwhile.
    pub(crate) fn check_idle(&mut self) {
        let Driver::Inline { rt, io } = &mut self.driver else { return };
        if io.is_none() {
            return;
        }
        outside_executor(|| {
            rt.block_on(async {
                // A yield lets the runtime look at the socket (a poll with no wait) first.
                tokio::task::yield_now().await;
                std::future::poll_fn(|cx| {
                    if io.as_mut().is_some_and(|conn| conn.as_mut().poll(cx).is_ready()) {
                        *io = None;
                    }
                    Poll::Ready(())
                })
                .await
            })
        });
    }

    /// Forget what was deferred (a transaction that never sent anything).
    pub(crate) fn clear_deferred(&mut self) {
        self.deferred.clear();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

/// Open one connection; its I/O runs on `rt`. Sessions wait at most `lock_timeout` for a
/// lock and are closed by the server when a transaction idles (a node that stopped
/// mid-transaction never holds a pool's write lock for long).
pub(crate) fn connect(rt: &Runtime, config: &Config) -> Result<PgConn> {
    let (client, connection) = rt.block_on(config.connect(NoTls)).map_err(pg_err)?;
    rt.handle().spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "PostgreSQL connection ended");
        }
    });
    set_up(rt, PgConn { client, driver: Driver::Background, statements: HashMap::new(), deferred: Vec::new() })
}

/// Open one connection whose socket the calling threads poll themselves (see the module
/// header), on a runtime of its own.
pub(crate) fn connect_inline(shared: &Runtime, config: &Config) -> Result<PgConn> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Error::internal)?;
    let (client, io) = outside_executor(|| rt.block_on(config.connect(NoTls))).map_err(pg_err)?;
    let driver = Driver::Inline { rt: InlineRt(Some(rt)), io: Some(Box::pin(io)) };
    set_up(shared, PgConn { client, driver, statements: HashMap::new(), deferred: Vec::new() })
}

fn set_up(rt: &Runtime, mut conn: PgConn) -> Result<PgConn> {
    conn.batch(
        rt,
        "SET lock_timeout = '15s'; SET idle_in_transaction_session_timeout = '60s'; \
         SET statement_timeout = '60s'",
    )?;
    Ok(conn)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
