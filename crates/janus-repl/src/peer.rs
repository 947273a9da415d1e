//! The HTTP client replication uses to reach another region (ureq, blocking: pullers run on
//! their own threads). Every request carries the shared replication secret.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use janus_types::PoolId;

use crate::wire::{Changes, Endpoint, SnapshotHead};

/// The header that carries the replication secret.
pub const SECRET_HEADER: &str = "x-janus-replication-secret";

/// A client for one remote region.
pub struct Peer {
    base: String,
    secret: String,
    agent: ureq::Agent,
}

/// A client for one short call: the whole exchange within `timeout`, any status an answer.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().into()
}

impl Peer {
    /// A client for the region at `base`.
    pub fn new(base: &str, secret: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(5)))
            // No overall limit: a large snapshot may take minutes to arrive. A response must
            // start within a minute (a long poll answers within 30 s), and a body may take an
            // hour.
            .timeout_global(None)
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .timeout_recv_body(Some(Duration::from_secs(3600)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { base: base.trim_end_matches('/').to_owned(), secret: secret.to_owned(), agent }
    }

    /// A client for short calls made while a user waits (security events): a region that
    /// does not answer within three seconds counts as unreachable.
    pub fn quick(base: &str, secret: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_millis(1500)))
            .timeout_global(Some(Duration::from_secs(3)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { base: base.trim_end_matches('/').to_owned(), secret: secret.to_owned(), agent }
    }

    fn url(&self, pool: &PoolId, what: Endpoint) -> String {
        what.url(&self.base, pool)
    }

    fn check(resp: &ureq::http::Response<ureq::Body>, what: Endpoint) -> anyhow::Result<()> {
        let s = resp.status();
        anyhow::ensure!(s.is_success(), "{}: HTTP {s}", what.name());
        Ok(())
    }

    /// POST `body` as JSON and read a JSON answer.
    pub fn post<T: Serialize, R: DeserializeOwned>(
        &self,
        pool: &PoolId,
        what: Endpoint,
        body: &T,
    ) -> anyhow::Result<R> {
        let mut resp = self
            .agent
            .post(self.url(pool, what))
            .header(SECRET_HEADER, &self.secret)
            .header("content-type", "application/json")
            .send(serde_json::to_vec(body)?)?;
        if !resp.status().is_success() {
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            anyhow::bail!("{}: HTTP {}: {text}", what.name(), resp.status());
        }
        Ok(serde_json::from_reader(resp.body_mut().as_reader())?)
    }

    /// GET a JSON document.
    pub fn get<R: DeserializeOwned>(&self, pool: &PoolId, what: Endpoint) -> anyhow::Result<R> {
        let mut resp = self.agent.get(self.url(pool, what)).header(SECRET_HEADER, &self.secret).call()?;
        Self::check(&resp, what)?;
        Ok(serde_json::from_reader(resp.body_mut().as_reader())?)
    }

    /// The changes after `after`, waiting up to `wait` for some to appear.
    pub fn changes(&self, pool: &PoolId, after: u64, wait: Duration, region: &str) -> anyhow::Result<Changes> {
        let url =
            format!("{}?after={after}&wait_ms={}&region={region}", self.url(pool, Endpoint::Changes), wait.as_millis());
        let mut resp = self.agent.get(url).header(SECRET_HEADER, &self.secret).call()?;
        Self::check(&resp, Endpoint::Changes)?;
        let batch: Changes = serde_json::from_reader(resp.body_mut().as_reader())?;
        batch.verify()?;
        Ok(batch)
    }

    /// A consistent snapshot, copied as it arrives into `spool` (so it is never whole in
    /// memory); `progress` sees the entity count as lines arrive. Fails unless exactly the
    /// announced number of entity lines arrived.
    pub fn snapshot(
        &self,
        pool: &PoolId,
        spool: &mut impl Write,
        mut progress: impl FnMut(u64, u64),
    ) -> anyhow::Result<SnapshotHead> {
        let mut resp = self.agent.get(self.url(pool, Endpoint::Snapshot)).header(SECRET_HEADER, &self.secret).call()?;
        Self::check(&resp, Endpoint::Snapshot)?;
        let mut reader = BufReader::with_capacity(256 * 1024, resp.body_mut().as_reader());
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line)?;
        anyhow::ensure!(line.ends_with(b"\n"), "empty snapshot");
        let head: SnapshotHead = serde_json::from_slice(&line)?;
        anyhow::ensure!(head.v == crate::wire::VERSION, "snapshot format {} is not {}", head.v, crate::wire::VERSION);
        let mut received = 0u64;
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let lines = buf.iter().filter(|b| **b == b'\n').count() as u64;
            spool.write_all(buf)?;
            let n = buf.len();
            reader.consume(n);
            if (received + lines) / 10_000 > received / 10_000 {
                progress(received + lines, head.entities);
            }
            received += lines;
        }
        spool.flush()?;
        anyhow::ensure!(received == head.entities, "snapshot cut short: {received} of {}", head.entities);
        progress(received, head.entities);
        Ok(head)
    }
}
