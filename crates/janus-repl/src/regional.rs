//! UpdateUserPool from any region. In the primary it is the ordinary update. In a secondary
//! it may change only the region's own settings (`janus_core::regional`): the secondary
//! checks the request, then hands the settings to the primary, which records them in the
//! pool so they replicate back. The secondary never writes the replicated pool itself; when
//! the primary cannot be reached the call fails and nothing changes.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

use janus_core::pools::UpdatePool;
use janus_types::{Error, PoolId, RegionName, RegionalSettings, Result};

use crate::{wire, Replicator};

/// A secondary's regional settings, sent to the primary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegionalUpdate {
    /// Format version.
    pub v: u32,
    /// The region the settings belong to.
    pub region: String,
    /// The settings.
    pub settings: RegionalSettings,
}

impl Replicator {
    /// UpdateUserPool, in whichever region it was called.
    pub fn update_pool(&self, request: Value) -> Result<()> {
        let sent: BTreeSet<String> = request.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
        let input: UpdatePool =
            serde_json::from_value(request).map_err(|e| Error::invalid(format!("Invalid request: {e}")))?;
        let pool = self.services.load_pool(&input.user_pool_id)?;
        if self.services.is_primary(&pool) {
            return self.services.update_pool(input);
        }
        let pool_id = input.user_pool_id.clone();
        let settings = self.services.regional_update(input, &sent)?;
        let update = RegionalUpdate { v: wire::VERSION, region: self.services.region.to_string(), settings };
        self.peer(pool.primary_region())?
            .post::<_, Value>(&pool_id, crate::wire::Endpoint::Regional, &update)
            .map_err(|e| Error::invalid(format!("The primary region could not be reached: {e:#}")))?;
        Ok(())
    }

    /// The primary's side: record a replica region's own settings.
    pub fn record_regional(&self, pool: &PoolId, update: RegionalUpdate) -> Result<()> {
        let region = RegionName::parse(&update.region)?;
        self.services.set_regional(pool, &region, update.settings)
    }
}
