//! Quotas: how many pools a region holds and how many app clients, groups and resource
//! servers a pool holds, with Cognito's default limits as defaults. Creating past a quota is
//! `LimitExceededException`, checked inside the creating transaction so concurrent creates
//! cannot overshoot. The operator sets them in `[quotas]` (docs/configuration.md).

use janus_store::Read;
use janus_types::{Error, PoolId, Result};

/// The limits in force in a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// User pools held in the region (Cognito: 1,000 per account and region).
    pub user_pools: usize,
    /// App clients per pool (Cognito: 1,000).
    pub app_clients: usize,
    /// Groups per pool (Cognito: 10,000).
    pub groups: usize,
    /// Resource servers per pool (Cognito: 25).
    pub resource_servers: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Self { user_pools: 1000, app_clients: 1000, groups: 10_000, resource_servers: 25 }
    }
}

fn exceeded(what: &str, limit: usize) -> Error {
    Error::LimitExceededException(format!("The {what} limit of {limit} has been exceeded."))
}

impl Quotas {
    /// Room for one more pool in the region `r` reads.
    pub fn check_pools(&self, r: &dyn Read) -> Result<()> {
        if self.user_pools == 0 {
            return Err(exceeded("user pool", 0));
        }
        let mut held = 0;
        let mut after = None;
        loop {
            let page = r.pools(after.as_ref(), 500)?;
            let Some(last) = page.last() else { break };
            held += page.len();
            if held >= self.user_pools {
                return Err(exceeded("user pool", self.user_pools));
            }
            after = Some(last.id.clone());
        }
        Ok(())
    }

    /// Room for one more app client in `pool`.
    pub fn check_clients(&self, r: &dyn Read, pool: &PoolId) -> Result<()> {
        let n = r.clients(pool, None, self.app_clients)?.len();
        if n >= self.app_clients {
            return Err(exceeded("app client", self.app_clients));
        }
        Ok(())
    }

    /// Room for one more group in `pool`.
    pub fn check_groups(&self, r: &dyn Read, pool: &PoolId) -> Result<()> {
        if r.groups(pool, None, self.groups)?.len() >= self.groups {
            return Err(exceeded("group", self.groups));
        }
        Ok(())
    }

    /// Room for one more resource server in `pool`.
    pub fn check_resource_servers(&self, r: &dyn Read, pool: &PoolId) -> Result<()> {
        if r.resource_servers(pool, None, self.resource_servers)?.len() >= self.resource_servers {
            return Err(exceeded("resource server", self.resource_servers));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_are_cognitos() {
        let q = super::Quotas::default();
        assert_eq!((q.user_pools, q.app_clients, q.groups, q.resource_servers), (1000, 1000, 10_000, 25));
    }
}
