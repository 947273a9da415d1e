//! Regional settings: the part of a pool's configuration each region keeps for itself —
//! message senders (`EmailConfiguration`, `SmsConfiguration`), triggers (`LambdaConfig`) and
//! tags — as Cognito's replication reference describes. UpdateUserPool in a secondary may
//! change only these, and the global settings it is sent must equal the primary's.
//!
//! They are still pool data: every UpdateUserPool records its region's settings in
//! `Replication::regional`, a secondary's through its primary, so they replicate, survive a
//! failover with the region they belong to, and each region can see (and `janus audit` can
//! check) the others'. A region's view of the pool overlays its own entry.

use serde_json::Value;
use std::collections::BTreeSet;

use janus_types::{Entity, Error, Pool, PoolId, RegionName, RegionalSettings, Result};

use crate::pools::UpdatePool;
use crate::Services;

/// The `UserPoolType` members a region keeps for itself (besides `UserPoolTags`).
pub const REGIONAL: &[&str] = &["EmailConfiguration", "SmsConfiguration", "LambdaConfig"];

/// The regional part of `pool` as it stands.
pub fn regional_of(pool: &Pool) -> RegionalSettings {
    let settings =
        REGIONAL.iter().filter_map(|k| pool.config.other.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect();
    RegionalSettings { settings, tags: pool.tags.clone() }
}

/// In the primary, after a change to `pool`'s settings or tags: keep the primary's own entry
/// current once the pool has replicas (so it still holds after a failover).
pub(crate) fn record_own(pool: &mut Pool, region: &RegionName) {
    if !pool.replication.replicas.is_empty() {
        let mine = regional_of(pool);
        pool.replication.regional.insert(region.clone(), mine);
    }
}

/// Regional setting `member` of `pool` as `region` sees it (what [`view_in`] would show),
/// without copying the pool.
pub fn setting<'a>(pool: &'a Pool, region: &RegionName, member: &str) -> Option<&'a Value> {
    match pool.replication.regional.get(region) {
        Some(mine) => mine.settings.get(member),
        None => pool.config.other.get(member),
    }
}

/// `pool` as `region` sees it: its own regional settings over the shared ones.
pub fn view_in(mut pool: Pool, region: &RegionName) -> Pool {
    if let Some(mine) = pool.replication.regional.get(region).cloned() {
        for k in REGIONAL {
            match mine.settings.get(*k) {
                Some(v) => pool.config.other.insert((*k).to_owned(), v.clone()),
                None => pool.config.other.remove(*k),
            };
        }
        pool.tags = mine.tags;
    }
    pool
}

/// The members of `pool`'s configuration as UpdateUserPool names them, for comparison.
fn members(pool: &Pool) -> serde_json::Map<String, Value> {
    let mut m = match serde_json::to_value(&pool.config) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let password = m.remove("PasswordPolicy").unwrap_or(Value::Null);
    let mut policies = match m.remove("Policies") {
        Some(Value::Object(p)) => p,
        _ => serde_json::Map::new(),
    };
    policies.insert("PasswordPolicy".into(), password);
    m.insert("Policies".into(), Value::Object(policies));
    m.insert("PoolName".into(), Value::String(pool.name.clone()));
    m
}

impl Services {
    /// UpdateUserPool in a secondary: check that every global member `sent` equals the
    /// pool's, and return the regional settings the request asks for.
    pub fn regional_update(&self, input: UpdatePool, sent: &BTreeSet<String>) -> Result<RegionalSettings> {
        // (From this region's view, so tags it is not sent stay its own, as in the primary.)
        let current = view_in(self.load_pool(&input.user_pool_id)?, &self.region);
        let mut candidate = current.clone();
        crate::pools::apply_update(&mut candidate, &input, self.now_ms())?;
        let (was, asked) = (members(&current), members(&candidate));
        let differs: Vec<&str> = sent
            .iter()
            .map(String::as_str)
            .filter(|k| *k != "UserPoolId" && *k != "UserPoolTags" && !REGIONAL.contains(k))
            .filter(|k| was.get(*k) != asked.get(*k))
            .collect();
        if !differs.is_empty() {
            return Err(Error::invalid(format!(
                "In {}, a secondary region of this user pool, UpdateUserPool may change only regional settings \
                 ({}, UserPoolTags); these differ from the primary's: {}. Change them in the primary region {}.",
                self.region,
                REGIONAL.join(", "),
                differs.join(", "),
                current.primary_region()
            )));
        }
        Ok(regional_of(&candidate))
    }

    /// Record `region`'s own settings for `pool` (in the primary; the change replicates).
    pub fn set_regional(&self, pool_id: &PoolId, region: &RegionName, settings: RegionalSettings) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let mut pool = tx.pool(pool_id)?.ok_or_else(|| Error::pool_not_found(pool_id.as_str()))?;
        self.ensure_primary(&pool, "UpdateUserPool")?;
        let known = pool.replication.replicas.iter().any(|r| r.region == *region);
        if !known && region.as_str() != pool.primary_region() {
            return Err(Error::invalid(format!("{region} holds no replica of {pool_id}")));
        }
        if pool.replication.regional.get(region) == Some(&settings) {
            return Ok(());
        }
        pool.replication.regional.insert(region.clone(), settings);
        pool.modified_ms = now;
        tx.put(pool_id, Entity::Pool(pool))?;
        tx.commit()?;
        tracing::info!(pool = %pool_id, %region, "regional settings updated");
        Ok(())
    }
}
