//! Resource servers and their custom scopes: CreateResourceServer, DescribeResourceServer,
//! UpdateResourceServer, DeleteResourceServer, ListResourceServers. A scope string is
//! `<identifier>/<scope name>`; app clients may list those in `AllowedOAuthScopes`, and
//! client_credentials access tokens carry them.

use serde::Deserialize;

use janus_types::{Entity, EntityKey, Error, PoolId, ResourceServer, Result, Scope};

use crate::users::pool_of;
use crate::{page, Services};

/// A scope as sent: `{"ScopeName": .., "ScopeDescription": ..}`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScopeInput {
    pub scope_name: String,
    pub scope_description: String,
}

/// Create/UpdateResourceServer input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServerInput {
    pub user_pool_id: PoolId,
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<ScopeInput>,
}

fn not_found(id: &str) -> Error {
    Error::ResourceNotFoundException(format!("Resource server {id} does not exist."))
}

fn scopes(input: &[ScopeInput]) -> Result<Vec<Scope>> {
    let mut out: Vec<Scope> = Vec::new();
    for s in input {
        if out.iter().any(|o| o.name == s.scope_name) {
            return Err(Error::invalid(format!("Duplicate scope name: {}", s.scope_name)));
        }
        out.push(Scope { name: s.scope_name.clone(), description: s.scope_description.clone() });
    }
    Ok(out)
}

impl Services {
    /// CreateResourceServer.
    pub fn create_resource_server(&self, input: ResourceServerInput) -> Result<ResourceServer> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, &input.user_pool_id)?;
        self.quotas.check_resource_servers(&*tx, &input.user_pool_id)?;
        if tx.resource_server(&input.user_pool_id, &input.identifier)?.is_some() {
            return Err(Error::invalid(format!("{} already exists in pool {}", input.identifier, input.user_pool_id)));
        }
        let rs = ResourceServer {
            identifier: input.identifier,
            name: input.name,
            scopes: scopes(&input.scopes)?,
            created_ms: now,
            modified_ms: now,
        };
        tx.put(&input.user_pool_id, Entity::ResourceServer(rs.clone()))?;
        tx.commit()?;
        Ok(rs)
    }

    /// DescribeResourceServer.
    pub fn describe_resource_server(&self, pool: &PoolId, identifier: &str) -> Result<ResourceServer> {
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        r.resource_server(pool, identifier)?.ok_or_else(|| not_found(identifier))
    }

    /// UpdateResourceServer: name and scopes are replaced by what is sent.
    pub fn update_resource_server(&self, input: ResourceServerInput) -> Result<ResourceServer> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, &input.user_pool_id)?;
        let mut rs =
            tx.resource_server(&input.user_pool_id, &input.identifier)?.ok_or_else(|| not_found(&input.identifier))?;
        rs.name = input.name;
        rs.scopes = scopes(&input.scopes)?;
        rs.modified_ms = now;
        tx.put(&input.user_pool_id, Entity::ResourceServer(rs.clone()))?;
        tx.commit()?;
        Ok(rs)
    }

    /// DeleteResourceServer.
    pub fn delete_resource_server(&self, pool: &PoolId, identifier: &str) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        pool_of(&*tx, pool)?;
        tx.resource_server(pool, identifier)?.ok_or_else(|| not_found(identifier))?;
        tx.delete(pool, EntityKey::ResourceServer { identifier: identifier.to_owned() })?;
        tx.commit()
    }

    /// ListResourceServers.
    pub fn list_resource_servers(
        &self,
        pool: &PoolId,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<ResourceServer>, Option<String>)> {
        let after = token.map(page::key).transpose()?;
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        let items = r.resource_servers(pool, after.as_deref(), limit + 1)?;
        Ok(page::split(items, limit, |s| s.identifier.clone()))
    }
}
