//! User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool,
//! ListUserPools, AddCustomAttributes.
//!
//! UpdateUserPool follows Cognito: settings it is not sent return to their defaults, except
//! the ones Janus keeps when omitted because resetting them would surprise (name, tags,
//! deletion protection, tier, key and issuer configuration). Schema, username attributes,
//! alias attributes and case sensitivity never change after creation.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use janus_crypto::random;
use janus_types::entity::{AdminCreateUserConfig, PasswordPolicy, PoolConfig, Tier, UsernameConfiguration};
use janus_types::{Entity, EntityKey, Error, Pool, PoolId, Result};

use crate::attributes::{self, SchemaInput, ALIAS_CAPABLE};
use crate::{page, Services};

/// `UserPoolPolicyType` as sent.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoliciesInput {
    pub password_policy: Option<PasswordPolicyInput>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `PasswordPolicyType` as sent: omitted flags are false, as on AWS.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicyInput {
    pub minimum_length: Option<u32>,
    pub require_uppercase: Option<bool>,
    pub require_lowercase: Option<bool>,
    pub require_numbers: Option<bool>,
    pub require_symbols: Option<bool>,
    pub password_history_size: Option<u32>,
    pub temporary_password_validity_days: Option<u32>,
}

/// The mutable settings shared by CreateUserPool and UpdateUserPool.
#[allow(missing_docs)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MutableSettings {
    pub policies: Option<PoliciesInput>,
    pub deletion_protection: Option<String>,
    pub auto_verified_attributes: Option<Vec<String>>,
    pub mfa_configuration: Option<String>,
    pub admin_create_user_config: Option<AdminCreateUserConfig>,
    pub user_pool_tags: Option<BTreeMap<String, String>>,
    pub user_pool_tier: Option<Tier>,
    pub key_configuration: Option<Value>,
    pub issuer_configuration: Option<Value>,
    /// LambdaConfig, EmailConfiguration, VerificationMessageTemplate, … kept verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// CreateUserPool's input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatePool {
    pub pool_name: String,
    #[serde(default)]
    pub schema: Vec<SchemaInput>,
    #[serde(default)]
    pub username_attributes: Vec<String>,
    #[serde(default)]
    pub alias_attributes: Vec<String>,
    pub username_configuration: Option<UsernameConfiguration>,
    #[serde(flatten)]
    pub settings: MutableSettings,
}

/// UpdateUserPool's input.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdatePool {
    pub user_pool_id: PoolId,
    pub pool_name: Option<String>,
    #[serde(flatten)]
    pub settings: MutableSettings,
}

/// A pool with the figures DescribeUserPool reports beside it.
#[derive(Debug, Clone)]
pub struct PoolView {
    /// The pool.
    pub pool: Pool,
    /// Its user count.
    pub estimated_users: u64,
    /// Regions holding replicas of it.
    pub replica_regions: Vec<String>,
}

/// The regions holding replicas of `pool`.
pub fn replica_regions(pool: &Pool) -> Vec<String> {
    pool.replication.replicas.iter().map(|r| r.region.to_string()).collect()
}

fn password_policy(input: Option<&PoliciesInput>) -> PasswordPolicy {
    let Some(p) = input.and_then(|p| p.password_policy.as_ref()) else {
        return PasswordPolicy::default();
    };
    PasswordPolicy {
        minimum_length: p.minimum_length.unwrap_or(8),
        require_uppercase: p.require_uppercase.unwrap_or(false),
        require_lowercase: p.require_lowercase.unwrap_or(false),
        require_numbers: p.require_numbers.unwrap_or(false),
        require_symbols: p.require_symbols.unwrap_or(false),
        password_history_size: p.password_history_size,
        temporary_password_validity_days: p.temporary_password_validity_days.unwrap_or(7),
    }
}

fn default_other() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("LambdaConfig".into(), json!({}));
    m.insert("EmailConfiguration".into(), json!({"EmailSendingAccount": "COGNITO_DEFAULT"}));
    m.insert("VerificationMessageTemplate".into(), json!({"DefaultEmailOption": "CONFIRM_WITH_CODE"}));
    m
}

/// Apply the mutable settings onto `config`, resetting what is omitted (see module docs).
fn apply_settings(config: &mut PoolConfig, s: &MutableSettings, creating: bool) -> Result<()> {
    crate::unsupported::check_pool(s)?;
    config.password_policy = password_policy(s.policies.as_ref());
    // The legacy UnusedAccountValidityDays sets the temporary password's validity when the
    // password policy does not, as on Cognito.
    let policy_days = s.policies.as_ref().and_then(|p| p.password_policy.as_ref()?.temporary_password_validity_days);
    let legacy_days = s.admin_create_user_config.as_ref().and_then(|c| c.unused_account_validity_days);
    if let (None, Some(days)) = (policy_days, legacy_days) {
        config.password_policy.temporary_password_validity_days = days;
    }
    let mut other = default_other();
    if let Some(p) = &s.policies {
        if !p.other.is_empty() {
            other.insert("Policies".into(), Value::Object(p.other.clone()));
        }
    }
    for (k, v) in &s.other {
        other.insert(k.clone(), v.clone());
    }
    crate::messages::sync_legacy(&mut other);
    config.other = other;
    config.auto_verified_attributes = s.auto_verified_attributes.clone().unwrap_or_default();
    for a in &config.auto_verified_attributes {
        if a != "email" && a != "phone_number" {
            return Err(Error::invalid(format!("Invalid AutoVerifiedAttributes value: {a}")));
        }
    }
    config.mfa_configuration = s.mfa_configuration.clone().unwrap_or_else(|| "OFF".into());
    config.admin_create_user_config = s.admin_create_user_config.clone().unwrap_or(AdminCreateUserConfig {
        allow_admin_create_user_only: false,
        unused_account_validity_days: Some(config.password_policy.temporary_password_validity_days),
        invite_message_template: None,
    });
    if let Some(d) = &s.deletion_protection {
        config.deletion_protection = d.clone();
    } else if creating {
        config.deletion_protection = "INACTIVE".into();
    }
    if let Some(t) = s.user_pool_tier {
        config.user_pool_tier = t;
    }
    if s.key_configuration.is_some() {
        config.key_configuration = s.key_configuration.clone();
    }
    if s.issuer_configuration.is_some() {
        config.issuer_configuration = s.issuer_configuration.clone();
    }
    Ok(())
}

/// UpdateUserPool's effect on `pool` (see the module docs for what omission means).
pub(crate) fn apply_update(pool: &mut Pool, input: &UpdatePool, now: i64) -> Result<()> {
    apply_settings(&mut pool.config, &input.settings, false)?;
    if let Some(name) = &input.pool_name {
        pool.name = name.clone();
    }
    if let Some(tags) = &input.settings.user_pool_tags {
        pool.tags = tags.clone();
    }
    pool.modified_ms = now;
    Ok(())
}

fn check_sign_in_attributes(username_attrs: &[String], alias_attrs: &[String]) -> Result<()> {
    if !username_attrs.is_empty() && !alias_attrs.is_empty() {
        return Err(Error::invalid("Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."));
    }
    for a in username_attrs {
        if a != "email" && a != "phone_number" {
            return Err(Error::invalid(format!("Invalid UsernameAttributes value: {a}")));
        }
    }
    for a in alias_attrs {
        if !ALIAS_CAPABLE.contains(&a.as_str()) {
            return Err(Error::invalid(format!("Invalid AliasAttributes value: {a}")));
        }
    }
    Ok(())
}

impl Services {
    /// CreateUserPool.
    pub fn create_pool(&self, input: CreatePool) -> Result<Pool> {
        check_sign_in_attributes(&input.username_attributes, &input.alias_attributes)?;
        let now = self.now_ms();
        let id = PoolId::new(&self.region, &random::pool_suffix(&*self.rng));
        let mut config = PoolConfig {
            password_policy: PasswordPolicy::default(),
            username_attributes: input.username_attributes,
            alias_attributes: input.alias_attributes,
            username_configuration: input.username_configuration,
            schema_attributes: std::sync::Arc::new(attributes::build_schema(&input.schema)?),
            auto_verified_attributes: vec![],
            admin_create_user_config: AdminCreateUserConfig {
                allow_admin_create_user_only: false,
                unused_account_validity_days: None,
                invite_message_template: None,
            },
            user_pool_tier: Tier::default(),
            mfa_configuration: "OFF".into(),
            deletion_protection: "INACTIVE".into(),
            key_configuration: None,
            issuer_configuration: None,
            other: Map::new(),
        };
        apply_settings(&mut config, &input.settings, true)?;
        let mut pool = Pool {
            arn: format!("arn:aws:cognito-idp:{}:{}:userpool/{id}", self.region, self.account),
            id: id.clone(),
            name: input.pool_name,
            created_ms: now,
            modified_ms: now,
            config,
            tags: input.settings.user_pool_tags.unwrap_or_default(),
            replication: Default::default(),
            mfa: Default::default(),
            issuer_base: None,
        };
        self.record_issuer(&mut pool);
        let keys = crate::keys::generate(&*self.rng, now, self.rsa_bits)?;
        let mut tx = self.store.write(now)?;
        self.quotas.check_pools(&*tx)?;
        tx.put(&id, Entity::Pool(pool.clone()))?;
        tx.put(&id, Entity::Keys(keys))?;
        tx.commit()?;
        tracing::info!(pool = %id, "created user pool");
        Ok(pool)
    }

    /// IssuerConfiguration `UPDATED` records this (the primary) region's issuer base in the
    /// pool, so every region issues with it; otherwise each region issues as itself.
    fn record_issuer(&self, pool: &mut Pool) {
        if !pool.shared_issuer() {
            pool.issuer_base = None;
        } else if pool.issuer_base.is_none() {
            pool.issuer_base = Some(self.issuer_base.clone());
        }
    }

    /// DescribeUserPool.
    pub fn describe_pool(&self, id: &PoolId) -> Result<PoolView> {
        let r = self.store.read()?;
        let pool = r.pool(id)?.ok_or_else(|| Error::pool_not_found(id.as_str()))?;
        let estimated_users = r.user_count(id)?;
        let replica_regions = replica_regions(&pool);
        let pool = crate::regional::view_in(pool, &self.region);
        Ok(PoolView { pool, estimated_users, replica_regions })
    }

    /// UpdateUserPool, in the primary. The primary's own regional settings are recorded
    /// beside the replicas' once the pool has replicas (see `regional`).
    pub fn update_pool(&self, input: UpdatePool) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let id = &input.user_pool_id;
        let mut pool = tx.pool(id)?.ok_or_else(|| Error::pool_not_found(id.as_str()))?;
        self.ensure_primary(&pool, "UpdateUserPool")?;
        apply_update(&mut pool, &input, now)?;
        self.record_issuer(&mut pool);
        crate::regional::record_own(&mut pool, &self.region);
        tx.put(id, Entity::Pool(pool))?;
        tx.commit()
    }

    /// DeleteUserPool: refused while deletion protection is active.
    pub fn delete_pool(&self, id: &PoolId) -> Result<()> {
        let mut tx = self.store.write(self.now_ms())?;
        let pool = tx.pool(id)?.ok_or_else(|| Error::pool_not_found(id.as_str()))?;
        if pool.config.deletion_protected() {
            return Err(Error::invalid(
                "The user pool cannot be deleted because deletion protection is activated. \
                 Deletion protection must be inactivated first.",
            ));
        }
        tx.delete(id, EntityKey::Pool)?;
        tx.commit()?;
        tracing::info!(pool = %id, "deleted user pool");
        Ok(())
    }

    /// ListUserPools: one page and the next token.
    pub fn list_pools(&self, max: usize, next: Option<&str>) -> Result<(Vec<PoolView>, Option<String>)> {
        let after = next.map(page::key).transpose()?.map(|k| PoolId::parse(&k)).transpose()?;
        let pools = self.store.read()?.pools(after.as_ref(), max + 1)?;
        let (pools, next) = page::split(pools, max, |p| p.id.to_string());
        let views = pools
            .into_iter()
            .map(|pool| PoolView {
                replica_regions: replica_regions(&pool),
                pool: crate::regional::view_in(pool, &self.region),
                estimated_users: 0,
            })
            .collect();
        Ok((views, next))
    }

    /// AddCustomAttributes.
    pub fn add_custom_attributes(&self, id: &PoolId, attrs: &[SchemaInput]) -> Result<()> {
        let now = self.now_ms();
        let mut tx = self.store.write(now)?;
        let mut pool = tx.pool(id)?.ok_or_else(|| Error::pool_not_found(id.as_str()))?;
        for a in attrs {
            attributes::add_custom(std::sync::Arc::make_mut(&mut pool.config.schema_attributes), a)?;
        }
        pool.modified_ms = now;
        tx.put(id, Entity::Pool(pool))?;
        tx.commit()
    }
}
