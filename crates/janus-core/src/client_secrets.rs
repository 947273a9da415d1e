//! Client-secret rotation: AddUserPoolClientSecret, ListUserPoolClientSecrets,
//! DeleteUserPoolClientSecret. A confidential client holds one or two active secrets; both
//! are accepted wherever a secret is checked (SECRET_HASH, the token and revocation
//! endpoints, RevokeToken, GetTokensFromRefreshToken), so a fleet moves to a new secret
//! before the old one is deleted. The last secret cannot be deleted. A secret's id is
//! `<client-id>--<creation time in ms>`, as Cognito spells it.

use janus_crypto::random;
use janus_types::{Client, ClientId, ClientSecret, Entity, Error, PoolId, Result};

use crate::users::pool_of;
use crate::Services;

/// Active secrets a client may hold at once, as on Cognito.
pub const MAX_SECRETS: usize = 2;

/// One secret as the operations describe it; `value` only when Janus just generated it.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretDescriptor {
    /// `<client-id>--<created_ms>`.
    pub id: String,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// The secret, returned once when Janus generated it.
    pub value: Option<String>,
}

fn secret_id(client: &ClientId, created_ms: i64) -> String {
    format!("{client}--{created_ms}")
}

fn descriptors(c: &Client) -> Vec<SecretDescriptor> {
    c.secrets().map(|(_, at)| SecretDescriptor { id: secret_id(&c.id, at), created_ms: at, value: None }).collect()
}

fn client_not_found(id: &ClientId) -> Error {
    Error::ResourceNotFoundException(format!("User pool client {id} does not exist."))
}

fn confidential(c: Client) -> Result<Client> {
    if c.is_confidential() {
        Ok(c)
    } else {
        Err(Error::invalid(format!("User pool client {} does not have a client secret.", c.id)))
    }
}

impl Services {
    /// AddUserPoolClientSecret: `value` when the caller chose it, else a generated one
    /// (returned once, in the descriptor).
    pub fn add_client_secret(&self, pool: &PoolId, id: &ClientId, value: Option<String>) -> Result<SecretDescriptor> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, pool)?;
        let mut client = confidential(tx.client(pool, id)?.ok_or_else(|| client_not_found(id))?)?;
        if client.secrets().count() >= MAX_SECRETS {
            return Err(Error::LimitExceededException(format!(
                "User pool client {id} already has {MAX_SECRETS} client secrets; delete one first."
            )));
        }
        let generated = value.is_none();
        let value = value.unwrap_or_else(|| random::client_secret(&*self.rng));
        if client.secrets().any(|(s, _)| crate::oauth::client::same_secret(s, &value)) {
            return Err(Error::invalid("The client secret is already active for this app client."));
        }
        // Two secrets added in the same millisecond still get distinct ids.
        let created_ms = client.secrets().map(|(_, at)| at + 1).fold(now, i64::max);
        client.second_secret = Some(ClientSecret { value: value.clone(), created_ms });
        client.modified_ms = now;
        tx.put(pool, Entity::Client(client.clone()))?;
        tx.commit()?;
        Ok(SecretDescriptor { id: secret_id(id, created_ms), created_ms, value: generated.then_some(value) })
    }

    /// ListUserPoolClientSecrets: ids and creation dates, never the values.
    pub fn list_client_secrets(&self, pool: &PoolId, id: &ClientId) -> Result<Vec<SecretDescriptor>> {
        let r = self.store.read()?;
        pool_of(&*r, pool)?;
        let client = r.client(pool, id)?.ok_or_else(|| client_not_found(id))?;
        Ok(descriptors(&client))
    }

    /// DeleteUserPoolClientSecret. Deleting the first secret makes the second the first.
    pub fn delete_client_secret(&self, pool: &PoolId, id: &ClientId, secret: &str) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, pool)?;
        let mut client = confidential(tx.client(pool, id)?.ok_or_else(|| client_not_found(id))?)?;
        let at = descriptors(&client).iter().position(|d| d.id == secret).ok_or_else(|| {
            Error::ResourceNotFoundException(format!("Client secret {secret} does not exist for client {id}."))
        })?;
        let second = client.second_secret.take().ok_or_else(|| {
            Error::invalid(format!("Client secret {secret} is the last secret of client {id}; it cannot be deleted."))
        })?;
        if at == 0 {
            client.secret = Some(second.value);
            client.secret_created_ms = Some(second.created_ms);
        }
        client.modified_ms = now;
        tx.put(pool, Entity::Client(client))?;
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(second: Option<i64>) -> Client {
        Client {
            id: ClientId::parse("abc123").unwrap(),
            name: "c".into(),
            secret: Some("first".into()),
            secret_created_ms: None,
            second_secret: second.map(|at| ClientSecret { value: "second".into(), created_ms: at }),
            created_ms: 7,
            modified_ms: 7,
            config: Default::default(),
        }
    }

    #[test]
    fn ids_name_the_client_and_the_creation_time() {
        let ids: Vec<String> = descriptors(&client(Some(9))).into_iter().map(|d| d.id).collect();
        assert_eq!(ids, ["abc123--7", "abc123--9"]);
    }

    #[test]
    fn both_secrets_are_accepted_and_nothing_else() {
        let c = client(Some(9));
        assert!(crate::oauth::client::accepts_secret(&c, "first"));
        assert!(crate::oauth::client::accepts_secret(&c, "second"));
        assert!(!crate::oauth::client::accepts_secret(&c, "third"));
        assert!(!crate::oauth::client::accepts_secret(&client(None), "second"));
    }
}
