//! The HTTP client replication uses to reach another region (ureq, blocking: pullers run on
//! their own threads). Every request carries the shared replication secret.

use std::io::{BufRead, BufReader};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use janus_types::{Entity, PoolId};

use crate::wire::{Changes, SnapshotHead};

/// The header that carries the replication secret.
pub const SECRET_HEADER: &str = "x-janus-replication-secret";

/// A client for one remote region.
pub struct Peer {
    base: String,
    secret: String,
    agent: ureq::Agent,
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

    fn url(&self, pool: &PoolId, what: &str) -> String {
        format!("{}/replication/v1/pools/{pool}/{what}", self.base)
    }

    fn check(resp: &ureq::http::Response<ureq::Body>, what: &str) -> anyhow::Result<()> {
        let s = resp.status();
        anyhow::ensure!(s.is_success(), "{what}: HTTP {s}");
        Ok(())
    }

    /// POST `body` as JSON and read a JSON answer.
    pub fn post<T: Serialize, R: DeserializeOwned>(&self, pool: &PoolId, what: &str, body: &T) -> anyhow::Result<R> {
        let mut resp = self
            .agent
            .post(self.url(pool, what))
            .header(SECRET_HEADER, &self.secret)
            .header("content-type", "application/json")
            .send(serde_json::to_vec(body)?)?;
        if !resp.status().is_success() {
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            anyhow::bail!("{what}: HTTP {}: {text}", resp.status());
        }
        Ok(serde_json::from_reader(resp.body_mut().as_reader())?)
    }

    /// GET a JSON document.
    pub fn get<R: DeserializeOwned>(&self, pool: &PoolId, what: &str) -> anyhow::Result<R> {
        let mut resp = self.agent.get(self.url(pool, what)).header(SECRET_HEADER, &self.secret).call()?;
        Self::check(&resp, what)?;
        Ok(serde_json::from_reader(resp.body_mut().as_reader())?)
    }

    /// The changes after `after`, waiting up to `wait` for some to appear.
    pub fn changes(&self, pool: &PoolId, after: u64, wait: Duration, region: &str) -> anyhow::Result<Changes> {
        let url = format!("{}?after={after}&wait_ms={}&region={region}", self.url(pool, "changes"), wait.as_millis());
        let mut resp = self.agent.get(url).header(SECRET_HEADER, &self.secret).call()?;
        Self::check(&resp, "changes")?;
        Ok(serde_json::from_reader(resp.body_mut().as_reader())?)
    }

    /// A consistent snapshot, read line by line; `progress` sees every entity count.
    pub fn snapshot(
        &self,
        pool: &PoolId,
        mut progress: impl FnMut(u64, u64),
    ) -> anyhow::Result<(SnapshotHead, Vec<Entity>)> {
        let mut resp = self.agent.get(self.url(pool, "snapshot")).header(SECRET_HEADER, &self.secret).call()?;
        Self::check(&resp, "snapshot")?;
        let mut lines = BufReader::new(resp.body_mut().as_reader()).lines();
        let head: SnapshotHead =
            serde_json::from_str(&lines.next().ok_or_else(|| anyhow::anyhow!("empty snapshot"))??)?;
        let mut entities = Vec::with_capacity(head.entities as usize);
        for line in lines {
            entities.push(serde_json::from_str(&line?)?);
            if entities.len() % 10_000 == 0 {
                progress(entities.len() as u64, head.entities);
            }
        }
        anyhow::ensure!(
            entities.len() as u64 == head.entities,
            "snapshot cut short: {} of {}",
            entities.len(),
            head.entities
        );
        progress(entities.len() as u64, head.entities);
        Ok((head, entities))
    }
}
