//! The key check of CreateUserPoolReplica. On the primary: a pool's key must be a
//! customer-managed multi-region key (unless the region allows the shared AWS owned key), and
//! the pool's wrapped data key travels with the request to host the replica. On the target:
//! the region unwraps that data key with its own copy of the key, under its own key policy,
//! before it agrees to host — so a missing, single-region, disabled or policy-excluded key
//! fails the call at set-up, naming the key and the region, never later at failover.

use std::sync::Weak;

use janus_types::{Error, Pool, PoolId, RegionName, Result, WrappedDek};

use crate::peer::Peer;
use crate::Replicator;

/// The vault's link to replica regions: `key-check` on each (UpdateUserPool moving a pool to
/// another key).
pub(crate) struct ReplicaKeys(pub(crate) Weak<Replicator>);

impl janus_core::vault::ReplicaKeyCheck for ReplicaKeys {
    fn check(&self, pool: &PoolId, region: &str, dek: &WrappedDek) -> Result<()> {
        let me = self.0.upgrade().ok_or_else(|| Error::internal(std::io::Error::other("shutting down")))?;
        let region = RegionName::parse(region)?;
        let secret = me.peers.secret.as_deref().ok_or_else(|| Error::invalid("Replication is not configured here."))?;
        let url = me.peers.urls.get(region.as_str()).ok_or_else(|| {
            Error::InvalidUserPoolConfigurationException(format!(
                "No peer is configured for region {region}, so it cannot be asked whether it can use the new key."
            ))
        })?;
        Peer::quick(url, secret)
            .post::<_, serde_json::Value>(pool, crate::wire::Endpoint::KeyCheck, dek)
            .map_err(|e| refusal(&region, &e))?;
        Ok(())
    }
}

impl Replicator {
    /// On the primary: what the replica region must prove it can unwrap, or why it cannot.
    pub(crate) fn replica_key_check(&self, pool: &Pool, region: &RegionName) -> Result<Option<WrappedDek>> {
        let Some(vault) = self.services.vault() else { return Ok(None) };
        let config = pool.config.key_configuration.as_ref();
        let kind = config.and_then(|c| c["KeyType"].as_str()).unwrap_or("AWS_OWNED_KEY");
        let arn = config.and_then(|c| c["KmsKeyArn"].as_str()).unwrap_or_default();
        if kind == "CUSTOMER_MANAGED_KEY" && !janus_crypto::keys::arn::is_multi_region(arn) {
            return Err(Error::InvalidUserPoolConfigurationException(format!(
                "Pool {} is encrypted under key {arn}, a single-region key: region {region} cannot decrypt it. \
                 Use a multi-region key (…:key/mrk-…) replicated to {region} with `janus keys replicate`.",
                pool.id
            )));
        }
        if kind != "CUSTOMER_MANAGED_KEY" && vault.settings.replica_requires_cmk {
            return Err(Error::InvalidUserPoolConfigurationException(format!(
                "Pool {} is encrypted under the AWS owned key; a replica in {region} needs KeyConfiguration \
                 CUSTOMER_MANAGED_KEY with a multi-region key (…:key/mrk-…) present in {region}.",
                pool.id
            )));
        }
        let dek = self.services.raw_store().read()?.keys(&pool.id)?.and_then(|k| k.dek);
        Ok(dek)
    }

    /// On the target: unwrap the pool's data key here, or refuse to host (or to follow the
    /// pool to a new key).
    pub fn check_replica_key(&self, pool: &PoolId, dek: &WrappedDek) -> Result<()> {
        let vault = self.services.vault().ok_or_else(|| {
            Error::InvalidUserPoolConfigurationException(format!(
                "Region {} has no key provider, so it cannot decrypt pool {pool}.",
                self.services.region
            ))
        })?;
        vault.check_unwrap(pool, dek)?;
        tracing::info!(pool = %pool, key = %dek.key_arn, "this region can unwrap the pool's data key");
        Ok(())
    }
}

/// The error CreateUserPoolReplica answers when the region refused to host: its own message
/// (which names the key and the region) when it sent one (`{"error": "<Code>: <message>"}`).
pub(crate) fn refusal(region: &RegionName, e: &anyhow::Error) -> Error {
    let text = format!("{e:#}");
    let body = text.find('{').and_then(|i| serde_json::from_str::<serde_json::Value>(&text[i..]).ok());
    let said = body.as_ref().and_then(|b| b["error"].as_str()).and_then(|s| s.split_once(": "));
    match said {
        Some(("InvalidUserPoolConfigurationException", m)) => {
            Error::InvalidUserPoolConfigurationException(format!("Region {region} cannot host the replica: {m}"))
        }
        Some((_, m)) => Error::invalid(format!("Region {region} could not host the replica: {m}")),
        None => Error::invalid(format!("Region {region} could not host the replica: {text}")),
    }
}
