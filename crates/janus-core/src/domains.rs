//! User pool domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain,
//! DeleteUserPoolDomain. A pool has at most one prefix domain (a name without dots, served as
//! `<prefix>.auth.<region>.<domain base>`) and one custom domain (a full host name, with a
//! `CustomDomainConfig`). Names are unique in a region; the domain is replicated pool data,
//! so a secondary answers on the same names. `Routing` is kept and reported as sent.

use serde::Deserialize;
use serde_json::Value;

use janus_types::{Domain, Entity, EntityKey, Error, PoolId, Result};

use crate::users::pool_of;
use crate::Services;

/// Create/UpdateUserPoolDomain input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainInput {
    pub user_pool_id: PoolId,
    pub domain: String,
    pub custom_domain_config: Option<Value>,
    pub routing: Option<Value>,
    pub managed_login_version: Option<i64>,
}

/// A domain with the pool it belongs to.
#[derive(Debug, Clone)]
pub struct DomainView {
    /// The pool.
    pub pool: PoolId,
    /// The domain.
    pub domain: Domain,
}

/// True for a custom domain (a host name), false for a prefix.
pub fn is_custom(name: &str) -> bool {
    name.contains('.')
}

fn check_name(name: &str, custom: bool) -> Result<()> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !name.split('.').all(label_ok) || name.len() > 253 {
        return Err(Error::invalid(format!("Invalid domain name: {name}")));
    }
    if !custom && ["aws", "amazon", "cognito"].iter().any(|w| name.contains(w)) {
        return Err(Error::invalid("Domain cannot contain reserved word: aws, amazon or cognito."));
    }
    Ok(())
}

impl Services {
    /// CreateUserPoolDomain.
    pub fn create_domain(&self, input: DomainInput) -> Result<Domain> {
        let name = input.domain.clone();
        let custom = is_custom(&name);
        check_name(&name, custom)?;
        if custom != input.custom_domain_config.is_some() {
            return Err(Error::invalid(if custom {
                "A custom domain needs a CustomDomainConfig."
            } else {
                "CustomDomainConfig is only for custom domains (a full host name)."
            }));
        }
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, &input.user_pool_id)?;
        if tx.domain(&name)?.is_some() {
            return Err(Error::invalid("Domain already associated with another user pool."));
        }
        if tx.domains(&input.user_pool_id)?.iter().any(|d| is_custom(&d.domain) == custom) {
            return Err(Error::invalid(format!(
                "User pool {} already has a {} domain.",
                input.user_pool_id,
                if custom { "custom" } else { "prefix" }
            )));
        }
        let domain = Domain {
            domain: name,
            custom: input.custom_domain_config,
            routing: input.routing,
            managed_login_version: input.managed_login_version,
            created_ms: now,
            modified_ms: now,
        };
        tx.put(&input.user_pool_id, Entity::Domain(domain.clone()))?;
        tx.commit()?;
        Ok(domain)
    }

    /// DescribeUserPoolDomain: `None` when no pool has that domain (Cognito then answers an
    /// empty description).
    pub fn describe_domain(&self, name: &str) -> Result<Option<DomainView>> {
        Ok(self.store.read()?.domain(name)?.map(|(pool, domain)| DomainView { pool, domain }))
    }

    /// The pool's (prefix, custom) domain names, as DescribeUserPool reports them.
    pub fn pool_domains(&self, pool: &PoolId) -> Result<(Option<String>, Option<String>)> {
        let all = self.store.read()?.domains(pool)?;
        let prefix = all.iter().find(|d| !is_custom(&d.domain)).map(|d| d.domain.clone());
        let custom = all.iter().find(|d| is_custom(&d.domain)).map(|d| d.domain.clone());
        Ok((prefix, custom))
    }

    /// UpdateUserPoolDomain: a custom domain's certificate, the managed-login version, routing.
    pub fn update_domain(&self, input: DomainInput) -> Result<Domain> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        pool_of(&*tx, &input.user_pool_id)?;
        let mut domain = match tx.domain(&input.domain)? {
            Some((pool, d)) if pool == input.user_pool_id => d,
            _ => return Err(Error::ResourceNotFoundException(format!("Domain {} does not exist.", input.domain))),
        };
        if let Some(c) = input.custom_domain_config {
            if !is_custom(&domain.domain) {
                return Err(Error::invalid("CustomDomainConfig is only for custom domains (a full host name)."));
            }
            domain.custom = Some(c);
        }
        if input.routing.is_some() {
            domain.routing = input.routing;
        }
        if input.managed_login_version.is_some() {
            domain.managed_login_version = input.managed_login_version;
        }
        domain.modified_ms = now;
        tx.put(&input.user_pool_id, Entity::Domain(domain.clone()))?;
        tx.commit()?;
        Ok(domain)
    }

    /// DeleteUserPoolDomain.
    pub fn delete_domain(&self, pool: &PoolId, name: &str) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        pool_of(&*tx, pool)?;
        match tx.domain(name)? {
            Some((p, _)) if p == *pool => {}
            _ => return Err(Error::invalid("No such domain or user pool exists.")),
        }
        tx.delete(pool, EntityKey::Domain { name: name.to_owned() })?;
        tx.commit()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn domain_names_are_checked() {
        assert!(super::check_name("my-app", false).is_ok());
        assert!(super::check_name("my-aws-app", false).is_err());
        assert!(super::check_name("auth.example.com", true).is_ok());
        assert!(super::check_name("Auth.example.com", true).is_err());
        assert!(super::check_name("-x", false).is_err());
    }
}
