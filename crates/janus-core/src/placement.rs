//! Which region may do what with a pool. The primary serves everything; a secondary serves
//! administrator reads, and — once its replica is ACTIVE — the end-user operations that
//! neither create users nor change their data (sign-in, challenges, refresh, GetUser). All
//! else is OperationNotEnabledException there. Operations are classified once, in the
//! operation table; [`Services::check_access`] is the one place the rule is applied.

use serde_json::Value;

use janus_types::{ClientId, Error, Pool, PoolId, ReplicaStatus, Result};

use crate::Services;

/// What an operation does to a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Touches no particular pool (CreateUserPool, ListUserPools).
    Global,
    /// Administrator read.
    AdminRead,
    /// Administrator write.
    AdminWrite,
    /// End-user operation that writes nothing global (sign-in, refresh, GetUser).
    UserRead,
    /// End-user operation that creates users or changes their data.
    UserWrite,
    /// Callable in primary and secondary; the operation routes itself (UpdateUserPoolReplica).
    AnyRegion,
}

impl Services {
    /// True when this region is the pool's primary.
    pub fn is_primary(&self, pool: &Pool) -> bool {
        pool.primary_region() == self.region.as_str()
    }

    /// This region's replica status for `pool` (`None` on the primary).
    pub fn replica_status_here(&self, pool: &Pool) -> Option<ReplicaStatus> {
        if self.is_primary(pool) {
            return None;
        }
        let here = pool.replication.replicas.iter().find(|r| r.region == self.region);
        Some(here.map_or(ReplicaStatus::Creating, |r| r.status))
    }

    /// Refuse `op` on `pool` when this region's role does not allow it.
    pub fn check_access(&self, pool: &Pool, op: &str, access: Access) -> Result<()> {
        let Some(status) = self.replica_status_here(pool) else { return Ok(()) };
        match access {
            Access::Global | Access::AdminRead | Access::AnyRegion => Ok(()),
            Access::UserRead if status == ReplicaStatus::Active => Ok(()),
            Access::UserRead => Err(Error::OperationNotEnabledException(format!(
                "The replica of this user pool in {} is {}; end users are served once it is ACTIVE.",
                self.region,
                status.as_str()
            ))),
            Access::AdminWrite | Access::UserWrite => Err(Error::OperationNotEnabledException(format!(
                "{op} is not available in {}, a secondary region of this user pool; call the primary region {}.",
                self.region,
                pool.primary_region()
            ))),
        }
    }

    /// Refuse a write to `pool` from this region unless it is the primary.
    pub fn ensure_primary(&self, pool: &Pool, what: &str) -> Result<()> {
        self.check_access(pool, what, Access::AdminWrite)
    }

    /// Every pool a request names: by its `UserPoolId`, its app client's, its access
    /// token's and its Session's — all of them, whichever member the operation reads, so a
    /// made-up `UserPoolId` beside a real `ClientId` cannot slip a write past the role check
    /// (issue 13). Names that lead to no pool are left out (the operation reports those).
    pub fn pools_of_request(&self, input: &Value) -> Result<Vec<Pool>> {
        let r = self.store.read()?;
        let mut ids = Vec::new();
        if let Some(id) = input.get("UserPoolId").and_then(Value::as_str).and_then(|s| PoolId::parse(s).ok()) {
            ids.push(id);
        }
        if let Some(c) = input.get("ClientId").and_then(Value::as_str).and_then(|s| ClientId::parse(s).ok()) {
            ids.extend(r.client_by_id(&c)?.map(|(pool, _)| pool));
        }
        if let Some(token) = input.get("AccessToken").and_then(Value::as_str) {
            ids.extend(crate::me::pool_of_token(token).ok());
        }
        if let Some(pool) = input.get("Session").and_then(Value::as_str).and_then(crate::auth::sealed::session_pool) {
            ids.push(pool);
        }
        let mut pools = Vec::new();
        for id in ids {
            if !pools.iter().any(|p: &Pool| p.id == id) {
                pools.extend(r.pool(&id)?);
            }
        }
        Ok(pools)
    }
}
