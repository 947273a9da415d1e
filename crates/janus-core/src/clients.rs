//! App clients: CreateUserPoolClient (with GenerateSecret), DescribeUserPoolClient,
//! UpdateUserPoolClient, DeleteUserPoolClient, ListUserPoolClients. Members Janus does not
//! interpret yet are kept verbatim and echoed; omitted ones get Cognito's defaults.

use serde_json::{json, Map, Value};

use janus_crypto::random;
use janus_types::{Client, ClientId, Entity, EntityKey, Error, Pool, PoolId, Result};

use crate::users::pool_of;
use crate::{page, Services};

/// Members that identify the client rather than configure it.
const IDENTITY_MEMBERS: &[&str] = &["UserPoolId", "ClientId", "ClientName", "GenerateSecret", "ClientSecret"];

fn with_defaults(mut config: Map<String, Value>) -> Map<String, Value> {
    for k in IDENTITY_MEMBERS {
        config.remove(*k);
    }
    let defaults = [
        ("RefreshTokenValidity", json!(30)),
        ("AccessTokenValidity", json!(60)),
        ("IdTokenValidity", json!(60)),
        ("TokenValidityUnits", json!({"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"})),
        ("AllowedOAuthFlowsUserPoolClient", json!(false)),
        ("EnableTokenRevocation", json!(true)),
        ("EnablePropagateAdditionalUserContextData", json!(false)),
        ("AuthSessionValidity", json!(3)),
    ];
    for (k, v) in defaults {
        config.entry(k).or_insert(v);
    }
    config
}

/// ReadAttributes and WriteAttributes name attributes of the pool's schema.
fn check_attributes(pool: &Pool, request: &Map<String, Value>, verb: &str) -> Result<()> {
    for (member, what) in [("ReadAttributes", "read"), ("WriteAttributes", "write")] {
        let names = request.get(member).and_then(Value::as_array).into_iter().flatten();
        if names.filter_map(Value::as_str).any(|n| pool.config.schema(n).is_none()) {
            return Err(Error::invalid(format!("Invalid {what} attributes specified while {verb} a client")));
        }
    }
    Ok(())
}

fn client_not_found(id: &ClientId) -> Error {
    Error::ResourceNotFoundException(format!("User pool client {id} does not exist."))
}

impl Services {
    /// CreateUserPoolClient. `request` is the whole input; its configuration members are kept.
    pub fn create_client(
        &self,
        pool_id: &PoolId,
        name: String,
        generate_secret: bool,
        secret: Option<String>,
        request: Map<String, Value>,
    ) -> Result<Client> {
        crate::oauth::client::check_redirect_urls(&request)?;
        crate::unsupported::check_client(&request)?;
        let now = self.now_ms();
        let secret = match secret {
            Some(s) => Some(s),
            None if generate_secret => Some(random::client_secret(&*self.rng)),
            None => None,
        };
        let client = Client {
            id: ClientId::parse(&random::client_id(&*self.rng))?,
            name,
            secret,
            secret_created_ms: None,
            second_secret: None,
            created_ms: now,
            modified_ms: now,
            config: with_defaults(request),
        };
        let mut tx = self.store.write(now)?;
        let pool = pool_of(&*tx, pool_id)?;
        check_attributes(&pool, &client.config, "creating")?;
        self.quotas.check_clients(&*tx, pool_id)?;
        tx.put(pool_id, Entity::Client(client.clone()))?;
        tx.commit()?;
        Ok(client)
    }

    /// DescribeUserPoolClient.
    pub fn describe_client(&self, pool_id: &PoolId, id: &ClientId) -> Result<Client> {
        let r = self.store.read()?;
        pool_of(&*r, pool_id)?;
        r.client(pool_id, id)?.ok_or_else(|| client_not_found(id))
    }

    /// UpdateUserPoolClient: as on Cognito, configuration that is not sent returns to its
    /// default; the name is kept when omitted; the secret never changes.
    pub fn update_client(
        &self,
        pool_id: &PoolId,
        id: &ClientId,
        name: Option<String>,
        request: Map<String, Value>,
    ) -> Result<Client> {
        crate::oauth::client::check_redirect_urls(&request)?;
        crate::unsupported::check_client(&request)?;
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let pool = pool_of(&*tx, pool_id)?;
        check_attributes(&pool, &request, "updating")?;
        let mut client = tx.client(pool_id, id)?.ok_or_else(|| client_not_found(id))?;
        if let Some(n) = name {
            client.name = n;
        }
        client.config = with_defaults(request);
        client.modified_ms = now;
        tx.put(pool_id, Entity::Client(client.clone()))?;
        tx.commit()?;
        Ok(client)
    }

    /// DeleteUserPoolClient.
    pub fn delete_client(&self, pool_id: &PoolId, id: &ClientId) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        pool_of(&*tx, pool_id)?;
        tx.client(pool_id, id)?.ok_or_else(|| client_not_found(id))?;
        tx.delete(pool_id, EntityKey::Client { id: id.clone() })?;
        tx.commit()
    }

    /// ListUserPoolClients.
    pub fn list_clients(
        &self,
        pool_id: &PoolId,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<Client>, Option<String>)> {
        let after = token.map(page::key).transpose()?.map(|k| ClientId::parse(&k)).transpose()?;
        let r = self.store.read()?;
        pool_of(&*r, pool_id)?;
        let clients = r.clients(pool_id, after.as_ref(), limit + 1)?;
        Ok(page::split(clients, limit, |c| c.id.to_string()))
    }
}
