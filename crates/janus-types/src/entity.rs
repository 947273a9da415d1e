//! The entities a user pool is made of. Each is stored whole and travels whole in the change
//! log, so its serialized form is a persisted format: add fields with `#[serde(default)]`,
//! never rename or repurpose one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::change::EntityKey;
use crate::ids::{ClientId, GroupName, PoolId, Sub, UserKey};

pub use crate::entity_device::Device;
pub use crate::entity_import::{ImportJob, ImportStatus};
pub use crate::entity_oauth::{Domain, ResourceServer, Scope, UiCustomization};
pub use crate::entity_pool::{
    AdminCreateUserConfig, NumberConstraints, PasswordPolicy, PoolConfig, SchemaAttribute, StringConstraints, Tier,
    UsernameConfiguration,
};

/// A user pool: identity, configuration and tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    /// The pool id, the same in every region.
    pub id: PoolId,
    /// The pool's friendly name.
    pub name: String,
    /// `arn:aws:cognito-idp:<region>:<account>:userpool/<id>`.
    pub arn: String,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last modification time, ms since the epoch.
    pub modified_ms: i64,
    /// The settings, as Cognito's `UserPoolType` members.
    pub config: PoolConfig,
    /// Resource tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Primary region and replicas.
    #[serde(default)]
    pub replication: crate::replication::Replication,
    /// The MFA factors the pool offers (SetUserPoolMfaConfig); `config.mfa_configuration`
    /// says whether MFA is OFF, ON or OPTIONAL.
    #[serde(default)]
    pub mfa: PoolMfa,
    /// The issuer base every region puts in the pool's tokens while its IssuerConfiguration
    /// is `UPDATED`: the primary's, recorded when the setting was made, replicated with the
    /// pool. `None`, or `ORIGINAL`: each region issues as itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_base: Option<String>,
}

impl Pool {
    /// True when the pool's IssuerConfiguration is `UPDATED` (one issuer in every region).
    pub fn shared_issuer(&self) -> bool {
        let kind = self.config.issuer_configuration.as_ref().and_then(|c| c.get("Type"));
        kind.and_then(Value::as_str) == Some("UPDATED")
    }
}

/// The MFA factors a pool offers, as SetUserPoolMfaConfig set them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PoolMfa {
    /// `SoftwareTokenMfaConfiguration.Enabled`.
    #[serde(default)]
    pub software_token: bool,
    /// `SmsMfaConfiguration` as sent; SMS codes are offered while it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<Value>,
    /// `EmailMfaConfiguration` as sent; email codes are offered while it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Value>,
}

impl PoolMfa {
    /// True when the pool offers `factor`.
    pub fn offers(&self, factor: MfaFactor) -> bool {
        match factor {
            MfaFactor::SoftwareToken => self.software_token,
            MfaFactor::Sms => self.sms.is_some(),
            MfaFactor::Email => self.email.is_some(),
        }
    }
}

/// An MFA factor, named as Cognito's challenges name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MfaFactor {
    /// A TOTP authenticator app.
    #[serde(rename = "SOFTWARE_TOKEN_MFA")]
    SoftwareToken,
    /// A code by SMS.
    #[serde(rename = "SMS_MFA")]
    Sms,
    /// A code by email.
    #[serde(rename = "EMAIL_OTP")]
    Email,
}

impl MfaFactor {
    /// Every factor, in the order Cognito lists them.
    pub const ALL: [MfaFactor; 3] = [MfaFactor::Sms, MfaFactor::SoftwareToken, MfaFactor::Email];

    /// The challenge name (also the `UserMFASettingList` entry).
    pub fn as_str(self) -> &'static str {
        match self {
            MfaFactor::SoftwareToken => "SOFTWARE_TOKEN_MFA",
            MfaFactor::Sms => "SMS_MFA",
            MfaFactor::Email => "EMAIL_OTP",
        }
    }

    /// Parse a challenge name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl Pool {
    /// The region where the pool accepts writes.
    pub fn primary_region(&self) -> &str {
        self.replication.primary.as_ref().map_or_else(|| self.id.region_part(), |r| r.as_str())
    }

    /// The pool's ARN as seen from `region`.
    pub fn arn_in(&self, region: &str) -> String {
        let primary = format!(":{}:", self.primary_region());
        self.arn.replacen(&primary, &format!(":{region}:"), 1)
    }
}

/// An app client of a pool.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    /// The client id.
    pub id: ClientId,
    /// The client's friendly name.
    pub name: String,
    /// The client's first active secret (the one DescribeUserPoolClient shows), when it is
    /// confidential. Kept under this name so that every reader requires it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When `secret` was made; absent in records written before secrets rotated, where it
    /// is the client's creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_created_ms: Option<i64>,
    /// A second active secret, while a rotation is under way (AddUserPoolClientSecret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_secret: Option<ClientSecret>,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last modification time, ms since the epoch.
    pub modified_ms: i64,
    /// Every other `UserPoolClientType` member, as the caller set it.
    #[serde(default)]
    pub config: Map<String, Value>,
}

/// A client secret beside the first one.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSecret {
    /// The secret.
    pub value: String,
    /// When it was made, ms since the epoch.
    pub created_ms: i64,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret").field("value", &"<redacted>").field("created_ms", &self.created_ms).finish()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("secrets", &self.secrets().count())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The active secrets, first one first, each with when it was made.
    pub fn secrets(&self) -> impl Iterator<Item = (&str, i64)> {
        let first = self.secret.as_deref().map(|s| (s, self.secret_created_ms.unwrap_or(self.created_ms)));
        let second = self.second_secret.as_ref().map(|s| (s.value.as_str(), s.created_ms));
        first.into_iter().chain(second)
    }

    /// A confidential client has a secret; a public one has none.
    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
    }
}

/// Where a user is in its life cycle, as Cognito's `UserStatusType`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    Archived,
    Compromised,
    Unknown,
    ResetRequired,
    ForceChangePassword,
    ExternalProvider,
}

impl UserStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::Archived => "ARCHIVED",
            UserStatus::Compromised => "COMPROMISED",
            UserStatus::Unknown => "UNKNOWN",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }
}

/// A stored password: a PHC-format hash, never the password.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordCredential {
    /// The PHC string (`$argon2id$v=19$m=...`).
    pub phc: String,
    /// True for an administrator-set temporary password.
    pub temporary: bool,
    /// When it was set, ms since the epoch.
    pub set_ms: i64,
    /// SRP salt (hex), for USER_SRP_AUTH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srp_salt: Option<String>,
    /// SRP verifier `v` (hex); as secret as the hash itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srp_verifier: Option<String>,
}

impl std::fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordCredential").field("phc", &"<redacted>").field("temporary", &self.temporary).finish()
    }
}

/// A user of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The user name as stored (for email/phone-as-username pools, the generated UUID).
    pub username: String,
    /// The storage key derived from the user name and the pool's case sensitivity.
    pub key: UserKey,
    /// The immutable subject.
    pub sub: Sub,
    /// Attributes other than `sub`, by name.
    pub attributes: BTreeMap<String, String>,
    /// False after AdminDisableUser.
    pub enabled: bool,
    /// Life-cycle status.
    pub status: UserStatus,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last modification time, ms since the epoch.
    pub modified_ms: i64,
    /// The password credential, if one was set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordCredential>,
    /// Sign-in alias index keys (`email:<value>`, `phone_number:<value>`, ...), unique per pool.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Sign-in protection and token revocation state.
    #[serde(default)]
    pub security: UserSecurity,
    /// Codes sent and not yet used, by purpose (`signup`, `forgot`, `verify:email`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub codes: BTreeMap<String, PendingCode>,
    /// MFA factors and preferences.
    #[serde(default, skip_serializing_if = "UserMfa::is_empty")]
    pub mfa: UserMfa,
}

/// A user's MFA: the software token (its secret only sealed under a pool key), and which
/// factors are enabled and preferred (SetUserMFAPreference).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserMfa {
    /// The verified software token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_token: Option<SoftwareToken>,
    /// A token associated by access token and not verified yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_token: Option<SoftwareToken>,
    /// Factors the user enabled, in no particular order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enabled: Vec<MfaFactor>,
    /// The preferred factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<MfaFactor>,
}

impl UserMfa {
    /// True when nothing is set (the field is then left out of the stored form).
    pub fn is_empty(&self) -> bool {
        self == &UserMfa::default()
    }

    /// True when `factor` is enabled.
    pub fn has(&self, factor: MfaFactor) -> bool {
        self.enabled.contains(&factor)
    }

    /// Enable or disable `factor` (disabling it also drops it as the preference).
    pub fn set(&mut self, factor: MfaFactor, on: bool) {
        self.enabled.retain(|f| *f != factor);
        if on {
            self.enabled.push(factor);
            self.enabled.sort();
        } else if self.preferred == Some(factor) {
            self.preferred = None;
        }
    }
}

/// A TOTP secret, sealed (AES-256-GCM) under the pool's sealing key and bound to its user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwareToken {
    /// The sealed secret, base64.
    pub sealed: String,
    /// `FriendlyDeviceName` from VerifySoftwareToken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    /// When it was associated or verified (ms since the epoch).
    pub set_ms: i64,
}

impl std::fmt::Debug for SoftwareToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareToken").field("friendly_name", &self.friendly_name).finish_non_exhaustive()
    }
}

/// A one-time code sent to a user: only its keyed digest is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCode {
    /// HMAC-SHA256 of the code under a pool key (hex).
    pub digest: String,
    /// It stops working at this time (ms since the epoch).
    pub expires_ms: i64,
    /// Wrong guesses so far.
    pub attempts: u32,
}

/// A user's sign-in protection and revocation state. It is replicated pool data, so a
/// lockout or a sign-out holds in every region.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserSecurity {
    /// Consecutive failed sign-ins.
    #[serde(default)]
    pub failed_sign_ins: u32,
    /// Sign-in is refused until this time (ms since the epoch).
    #[serde(default)]
    pub locked_until_ms: i64,
    /// Tokens issued before this instant (ms) are revoked: GlobalSignOut, AdminDisableUser.
    /// Tokens carry their issue time in ms (in the UUIDv7 `jti`, and in refresh tokens).
    #[serde(default)]
    pub tokens_valid_from_ms: i64,
    /// Refresh tokens replaced by rotation: `(token id, usable until s)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotated: Vec<(String, i64)>,
    /// Revoked refresh-token families (`origin_jti`), with their expiry (s), newest last.
    #[serde(default)]
    pub revoked: Vec<(String, i64)>,
    /// The last TOTP step accepted (a code of this step or an earlier one is a replay).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub totp_last_step: i64,
    /// The issue time (ms) of the last email/SMS MFA challenge answered: a challenge issued
    /// at or before it cannot be answered again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub otp_last_ms: i64,
    /// OAuth authorization codes already redeemed: `(code id, expiry ms)`, pruned once
    /// expired (codes live 5 minutes), so a code is single-use in every region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redeemed_codes: Vec<(String, i64)>,
    /// One-time codes sent and wrong codes tried in the current window, across every code
    /// and purpose: a new code does not buy new guesses.
    #[serde(default, skip_serializing_if = "CodeBudget::is_empty")]
    pub code_budget: CodeBudget,
}

/// A user's one-time code budget for one window (the limits live in `janus_core::codes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CodeBudget {
    /// When the window began (ms since the epoch).
    pub window_start_ms: i64,
    /// Codes sent in the window.
    pub sent: u32,
    /// Wrong codes tried in the window.
    pub wrong: u32,
}

impl CodeBudget {
    /// True when nothing was counted (not stored).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Start a new window at `now_ms` when the current one, `window_ms` long, is over.
    pub fn roll(&mut self, now_ms: i64, window_ms: i64) {
        if now_ms >= self.window_start_ms.saturating_add(window_ms) || now_ms < self.window_start_ms {
            *self = Self { window_start_ms: now_ms, sent: 0, wrong: 0 };
        }
    }
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A pool's key material: JWT signing keys and the keys that seal refresh tokens and
/// sessions. Stored and replicated as pool data so every region signs and opens alike.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolKeys {
    /// RSA signing keys, newest last; all are published in the JWKS.
    pub signing: Vec<StoredKey>,
    /// AEAD sealing keys, newest last; the newest seals, all open.
    pub sealing: Vec<StoredKey>,
    /// The pool's data key wrapped by its CMK (absent in stores written before issue 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dek: Option<crate::entity_keys::WrappedDek>,
    /// Attributes stored encrypted under the data key (`JanusAdmin.SetSensitiveAttributes`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_attributes: Vec<String>,
}

impl PoolKeys {
    /// Every key id, signing then sealing: what changes whenever the key set does.
    pub fn kids(&self) -> Vec<String> {
        self.signing.iter().chain(&self.sealing).map(|k| k.kid.clone()).collect()
    }
}

impl std::fmt::Debug for PoolKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids = |v: &Vec<StoredKey>| v.iter().map(|k| k.kid.clone()).collect::<Vec<_>>();
        f.debug_struct("PoolKeys")
            .field("signing", &kids(&self.signing))
            .field("sealing", &kids(&self.sealing))
            .finish()
    }
}

/// One key: its id and its secret material (base64).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredKey {
    /// Key id.
    pub kid: String,
    /// Key material, base64 (PKCS#8 DER for signing keys, 32 raw bytes for sealing keys).
    pub material: String,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// A signing key signs from this instant (ms) on; published in the JWKS before that.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub active_from_ms: i64,
    /// A replaced signing key stays published until this instant (ms): the longest token
    /// validity after its successor started to sign. Dropped at the next rotation after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_after_ms: Option<i64>,
}

/// A group of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// The group name.
    pub name: GroupName,
    /// Free-text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// IAM role ARN for identity pools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// Precedence; lower wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precedence: Option<i64>,
    /// Creation time, ms since the epoch.
    pub created_ms: i64,
    /// Last modification time, ms since the epoch.
    pub modified_ms: i64,
}

/// A user's membership of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// The group.
    pub group: GroupName,
    /// The member's storage key.
    pub user: UserKey,
}

/// Any entity, as stored in a change. (Entities move rarely and are mostly serialized, so
/// the size difference between variants is not worth a box.)
#[allow(missing_docs)]
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entity {
    Pool(Pool),
    Client(Client),
    User(User),
    Group(Group),
    Membership(Membership),
    Keys(PoolKeys),
    Domain(Domain),
    ResourceServer(ResourceServer),
    UiCustomization(UiCustomization),
    Device(Device),
    ImportJob(ImportJob),
}

impl Entity {
    /// The key this entity is stored under within its pool.
    pub fn key(&self) -> EntityKey {
        match self {
            Entity::Pool(_) => EntityKey::Pool,
            Entity::Client(c) => EntityKey::Client { id: c.id.clone() },
            Entity::User(u) => EntityKey::User { key: u.key.clone() },
            Entity::Group(g) => EntityKey::Group { name: g.name.clone() },
            Entity::Membership(m) => EntityKey::Membership { group: m.group.clone(), user: m.user.clone() },
            Entity::Keys(_) => EntityKey::Keys,
            Entity::Domain(d) => EntityKey::Domain { name: d.domain.clone() },
            Entity::ResourceServer(r) => EntityKey::ResourceServer { identifier: r.identifier.clone() },
            Entity::UiCustomization(u) => EntityKey::UiCustomization { client: u.client.clone() },
            Entity::Device(d) => EntityKey::Device { user: d.user.clone(), key: d.key.clone() },
            Entity::ImportJob(j) => EntityKey::ImportJob { id: j.id.clone() },
        }
    }
}
