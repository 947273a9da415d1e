//! A pool's configuration, named exactly as Cognito's `UserPoolType` members so it
//! round-trips through the wire unchanged. The settings Janus honours are typed; every
//! other member is kept verbatim in `other` and echoed by DescribeUserPool.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The pool's feature plan.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Tier {
    Lite,
    #[default]
    Essentials,
    Plus,
}

/// `PasswordPolicyType`.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_history_size: Option<u32>,
    pub temporary_password_validity_days: u32,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        // Cognito's defaults for a pool created without a policy.
        Self {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            password_history_size: None,
            temporary_password_validity_days: 7,
        }
    }
}

/// `SchemaAttributeType`, with defaults filled in.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaAttribute {
    pub name: String,
    pub attribute_data_type: String,
    pub developer_only_attribute: bool,
    pub mutable: bool,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_attribute_constraints: Option<NumberConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_attribute_constraints: Option<StringConstraints>,
}

/// `NumberAttributeConstraintsType` (Cognito sends the bounds as strings).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NumberConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<String>,
}

/// `StringAttributeConstraintsType` (Cognito sends the bounds as strings).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StringConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<String>,
}

/// `UsernameConfigurationType`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfiguration {
    pub case_sensitive: bool,
}

/// `AdminCreateUserConfigType`.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserConfig {
    #[serde(default)]
    pub allow_admin_create_user_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unused_account_validity_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_message_template: Option<Value>,
}

/// The honoured settings of a pool plus every other member verbatim.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PoolConfig {
    pub password_policy: PasswordPolicy,
    #[serde(default)]
    pub username_attributes: Vec<String>,
    #[serde(default)]
    pub alias_attributes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_configuration: Option<UsernameConfiguration>,
    /// Shared, not copied, between the copies of a pool that every request takes from the
    /// stores' caches (the schema is most of a pool's size); change it with `Arc::make_mut`.
    #[serde(default)]
    pub schema_attributes: std::sync::Arc<Vec<SchemaAttribute>>,
    #[serde(default)]
    pub auto_verified_attributes: Vec<String>,
    pub admin_create_user_config: AdminCreateUserConfig,
    #[serde(default)]
    pub user_pool_tier: Tier,
    pub mfa_configuration: String,
    pub deletion_protection: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_configuration: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_configuration: Option<Value>,
    /// Every other `UserPoolType` member, as set.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl PoolConfig {
    /// True when user names compare case-sensitively (the API's default).
    pub fn case_sensitive(&self) -> bool {
        self.username_configuration.is_none_or(|c| c.case_sensitive)
    }

    /// The schema entry of an attribute, if declared.
    pub fn schema(&self, name: &str) -> Option<&SchemaAttribute> {
        self.schema_attributes.iter().find(|a| a.name == name)
    }

    /// True when `DeletionProtection` is `ACTIVE`.
    pub fn deletion_protected(&self) -> bool {
        self.deletion_protection == "ACTIVE"
    }
}
