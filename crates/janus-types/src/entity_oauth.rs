//! The pool entities the OAuth 2.0 surface is configured with: domains (where the hosted
//! pages and endpoints answer), resource servers (custom scopes for access tokens), and UI
//! customizations (CSS and a logo for the hosted pages). Like every entity they are stored
//! whole and travel whole in the change log: add fields with `#[serde(default)]`, never
//! rename one.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user pool domain: a prefix (`<prefix>.auth.<region>.<base>`) or a custom domain.
/// Domain names are unique across every pool of a region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Domain {
    /// The prefix, or the whole custom domain name, in lower case.
    pub domain: String,
    /// `CustomDomainConfig` (`CertificateArn`, …) for a custom domain; `None` for a prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    /// `Routing` (`Failover {SecondaryRegion, PrimaryRoute53HealthCheckId}`), kept and reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Value>,
    /// `ManagedLoginVersion` (1: classic hosted UI, 2: managed login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_login_version: Option<i64>,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last modification time, ms since the epoch.
    pub modified_ms: i64,
}

/// One custom scope of a resource server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// `ScopeName`.
    pub name: String,
    /// `ScopeDescription`.
    pub description: String,
}

/// A resource server: an identifier (usually a URL) and its scopes; access tokens carry
/// `<identifier>/<scope name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceServer {
    /// `Identifier`, unique in the pool.
    pub identifier: String,
    /// `Name`.
    pub name: String,
    /// `Scopes`.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last modification time, ms since the epoch.
    pub modified_ms: i64,
}

impl ResourceServer {
    /// The full scope strings this server defines (`<identifier>/<name>`).
    pub fn scope_strings(&self) -> impl Iterator<Item = String> + '_ {
        self.scopes.iter().map(|s| format!("{}/{}", self.identifier, s.name))
    }
}

/// Branding of the hosted pages for one app client, or for all (`client` = `ALL`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiCustomization {
    /// The client id, or `ALL` for the pool's default.
    pub client: String,
    /// `CSS`, served inline in the pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub css: Option<String>,
    /// The logo image, base64 as sent in `ImageFile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last modification time, ms since the epoch.
    pub modified_ms: i64,
}
