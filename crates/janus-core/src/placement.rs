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

    /// The pool a request is about: its `UserPoolId`, else its app client's, else its access
    /// token's, else its Session's. `None` when the request names none (or names one that
    /// does not exist: the operation itself reports that).
    pub fn pool_of_request(&self, input: &Value) -> Result<Option<Pool>> {
        let r = self.store.read()?;
        if let Some(id) = input.get("UserPoolId").and_then(Value::as_str).and_then(|s| PoolId::parse(s).ok()) {
            return r.pool(&id);
        }
        if let Some(c) = input.get("ClientId").and_then(Value::as_str).and_then(|s| ClientId::parse(s).ok()) {
            return match r.client_by_id(&c)? {
                Some((pool, _)) => r.pool(&pool),
                None => Ok(None),
            };
        }
        if let Some(token) = input.get("AccessToken").and_then(Value::as_str) {
            return match crate::me::pool_of_token(token) {
                Ok(pool) => r.pool(&pool),
                Err(_) => Ok(None),
            };
        }
        if let Some(pool) = input.get("Session").and_then(Value::as_str).and_then(crate::auth::sealed::session_pool) {
            return r.pool(&pool);
        }
        Ok(None)
    }
}
