//! PreTokenGeneration: a function sees the claims a sign-in is about to receive and changes
//! them. V1_0 (`version` "1") adds, overrides and suppresses ID-token claims and overrides the
//! groups (and IAM roles) both tokens carry; V2_0 ("2") does the same for the access token
//! and adds or removes its scopes; V3_0 ("3") is V2 that also runs for machine-to-machine
//! (client_credentials) tokens. The claims that identify a token and bind it to its issuer,
//! client and lifetime cannot be changed (the developer guide's claims reference): a function
//! that tries gets the token without that change. `claimsToSuppress` wins over
//! `claimsToAddOrOverride`; `groupOverrideDetails` replaces the groups in both tokens.

use serde_json::{json, Map, Value};

use janus_types::{Error, Pool, Result, User};

use super::signup::event_attributes;
use super::{Event, TokenVersion, Trigger};
use crate::Services;

/// Why tokens are being issued: the event's `triggerSource`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TokenSource {
    /// InitiateAuth / RespondToAuthChallenge ended in tokens.
    #[default]
    Authentication,
    /// The hosted pages' authorization code was redeemed.
    HostedAuth,
    /// A refresh token was used.
    RefreshTokens,
    /// The sign-in ended with NEW_PASSWORD_REQUIRED answered.
    NewPasswordChallenge,
    /// The client_credentials grant.
    ClientCredentials,
}

impl TokenSource {
    /// The `triggerSource` value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Authentication => "TokenGeneration_Authentication",
            TokenSource::HostedAuth => "TokenGeneration_HostedAuth",
            TokenSource::RefreshTokens => "TokenGeneration_RefreshTokens",
            TokenSource::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            TokenSource::ClientCredentials => "TokenGeneration_ClientCredentials",
        }
    }
}

/// Groups and roles as the tokens will carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupClaims {
    /// `cognito:groups`.
    pub groups: Vec<String>,
    /// `cognito:roles`.
    pub roles: Vec<String>,
    /// `cognito:preferred_role`.
    pub preferred_role: Option<String>,
}

/// The tokens being built.
pub struct Minting<'a> {
    /// The ID token's claims (none for client_credentials).
    pub id: Option<&'a mut Map<String, Value>>,
    /// The access token's claims.
    pub access: &'a mut Map<String, Value>,
    /// Groups and roles, before they are written into the claims.
    pub groups: &'a mut GroupClaims,
}

/// Which token claims are changed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Id,
    Access,
}

/// Claims a function may neither add, override nor suppress, in either token (the developer
/// guide's claims reference), and those of one token only.
#[rustfmt::skip]
const FIXED: &[&str] = &[
    "acr", "amr", "aud", "auth_time", "azp", "exp", "iat", "identities", "iss", "jti", "nbf", "nonce", "origin_jti",
    "sub", "token_use", "event_id",
];
const FIXED_ID: &[&str] = &["at_hash"];
const FIXED_ACCESS: &[&str] = &["client_id", "scope", "username", "version", "device_key"];

/// Attributes the ID token carries as plain values (never objects or arrays).
const SCALAR_ID: &[&str] = &["email_verified", "phone_number_verified", "updated_at", "address"];

fn fixed(token: Token, claim: &str) -> bool {
    let own = if token == Token::Id { FIXED_ID } else { FIXED_ACCESS };
    FIXED.contains(&claim) || own.contains(&claim) || claim.starts_with("cognito:")
}

fn unrecognizable() -> Error {
    Error::InvalidLambdaResponseException("Unrecognizable lambda output".into())
}

fn object(v: Option<&Value>) -> Result<Option<&Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(unrecognizable()),
    }
}

fn strings(v: Option<&Value>) -> Result<Option<Vec<String>>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => {
            a.iter().map(|s| s.as_str().map(str::to_owned).ok_or_else(unrecognizable)).collect::<Result<_>>().map(Some)
        }
        Some(_) => Err(unrecognizable()),
    }
}

/// Add, override and suppress claims of one token, leaving the fixed ones alone. V1 claims
/// are strings (numbers and booleans are taken as their text); V2 and later take any JSON.
fn apply_claims(
    claims: &mut Map<String, Value>,
    detail: &Map<String, Value>,
    token: Token,
    any_json: bool,
) -> Result<()> {
    if let Some(add) = object(detail.get("claimsToAddOrOverride"))? {
        for (k, v) in add {
            if token == Token::Id && SCALAR_ID.contains(&k.as_str()) && (v.is_object() || v.is_array()) {
                return Err(unrecognizable());
            }
            if k.starts_with("dev:") {
                continue; // dev: attributes can only be suppressed
            }
            let v = match v {
                Value::String(_) => v.clone(),
                Value::Number(_) | Value::Bool(_) if !any_json => Value::from(v.to_string()),
                Value::Null => continue,
                _ if any_json => v.clone(),
                _ => return Err(unrecognizable()),
            };
            if !fixed(token, k) {
                claims.insert(k.clone(), v);
            }
        }
    }
    for k in strings(detail.get("claimsToSuppress"))?.unwrap_or_default() {
        if !fixed(token, &k) {
            claims.remove(&k);
        }
    }
    Ok(())
}

/// `groupOverrideDetails` replaces the group configuration when present: what it leaves out
/// (or a null or empty object) is dropped.
fn apply_groups(groups: &mut GroupClaims, detail: Option<&Value>) -> Result<()> {
    let d = match detail {
        None => return Ok(()),
        Some(Value::Null) => {
            *groups = GroupClaims::default();
            return Ok(());
        }
        Some(Value::Object(d)) => d,
        Some(_) => return Err(unrecognizable()),
    };
    groups.groups = strings(d.get("groupsToOverride"))?.unwrap_or_default();
    groups.roles = strings(d.get("iamRolesToOverride"))?.unwrap_or_default();
    groups.preferred_role = match d.get("preferredRole") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(unrecognizable()),
    };
    Ok(())
}

/// Suppressing `cognito:groups` drops the groups and, in the ID token, the roles with them.
fn suppress_groups(groups: &mut GroupClaims, detail: &Map<String, Value>) -> Result<()> {
    if strings(detail.get("claimsToSuppress"))?.unwrap_or_default().iter().any(|c| c == "cognito:groups") {
        *groups = GroupClaims::default();
    }
    Ok(())
}

fn apply_scopes(access: &mut Map<String, Value>, detail: &Map<String, Value>) -> Result<()> {
    let mut scopes: Vec<String> =
        access.get("scope").and_then(Value::as_str).unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    for s in strings(detail.get("scopesToAdd"))?.unwrap_or_default() {
        if s.split_whitespace().count() != 1 {
            return Err(Error::InvalidLambdaResponseException("A scope to add cannot contain spaces.".into()));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    let suppress = strings(detail.get("scopesToSuppress"))?.unwrap_or_default();
    scopes.retain(|s| !suppress.contains(s));
    access.insert("scope".into(), json!(scopes.join(" ")));
    Ok(())
}

impl Services {
    /// Run PreTokenGeneration (when configured, and for client_credentials only with V3_0)
    /// over tokens being minted for `user` (`None`: the client itself).
    pub fn pre_token_generation(
        &self,
        pool: &Pool,
        client_id: &str,
        user: Option<&User>,
        source: TokenSource,
        metadata: &std::collections::BTreeMap<String, String>,
        t: Minting<'_>,
    ) -> Result<()> {
        let Some(c) = self.trigger_function(pool, Trigger::PreTokenGeneration) else { return Ok(()) };
        if source == TokenSource::ClientCredentials && c.version != TokenVersion::V3 {
            return Ok(());
        }
        let mut request = Map::new();
        if let Some(u) = user {
            request.insert("userAttributes".into(), event_attributes(u));
        }
        request.insert(
            "groupConfiguration".into(),
            json!({"groupsToOverride": t.groups.groups, "iamRolesToOverride": t.groups.roles,
                   "preferredRole": t.groups.preferred_role}),
        );
        if c.version != TokenVersion::V1 {
            let scopes: Vec<&str> =
                t.access.get("scope").and_then(Value::as_str).unwrap_or_default().split_whitespace().collect();
            request.insert("scopes".into(), json!(scopes));
        }
        let request = super::with_metadata(Value::Object(request), metadata);
        let (member, preset) = match c.version {
            TokenVersion::V1 => ("claimsOverrideDetails", json!({"claimsOverrideDetails": null})),
            _ => ("claimsAndScopeOverrideDetails", json!({"claimsAndScopeOverrideDetails": null})),
        };
        let name = user.map_or(client_id, |u| u.username.as_str());
        let event =
            Event { source: source.as_str(), user_name: name, client_id: Some(client_id), request, response: preset };
        let Some(r) = self.run_trigger(pool, Trigger::PreTokenGeneration, event)? else { return Ok(()) };
        let Some(detail) = object(r.get(member))? else { return Ok(()) };
        apply_groups(t.groups, detail.get("groupOverrideDetails"))?;
        if c.version == TokenVersion::V1 {
            suppress_groups(t.groups, detail)?;
            if let Some(id) = t.id {
                apply_claims(id, detail, Token::Id, false)?;
            }
            return Ok(());
        }
        if let Some(d) = object(detail.get("idTokenGeneration"))? {
            suppress_groups(t.groups, d)?;
            if let Some(id) = t.id {
                apply_claims(id, d, Token::Id, true)?;
            }
        }
        if let Some(d) = object(detail.get("accessTokenGeneration"))? {
            suppress_groups(t.groups, d)?;
            apply_claims(t.access, d, Token::Access, true)?;
            apply_scopes(t.access, d)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn fixed_claims_stay_and_others_change() {
        let mut claims = map(json!({"sub": "s", "email": "a@b", "iss": "i"}));
        let detail =
            map(json!({"claimsToAddOrOverride": {"sub": "evil", "tenant": "t1", "n": 3, "cognito:groups": "x"},
                                "claimsToSuppress": ["email", "iss"]}));
        apply_claims(&mut claims, &detail, Token::Id, false).unwrap();
        assert_eq!(Value::Object(claims), json!({"sub": "s", "iss": "i", "tenant": "t1", "n": "3"}));
    }

    #[test]
    fn v1_claims_are_text_and_v2_take_json() {
        let detail = map(json!({"claimsToAddOrOverride": {"o": {"a": [1]}}}));
        assert!(apply_claims(&mut Map::new(), &detail, Token::Id, false).is_err());
        let mut claims = Map::new();
        apply_claims(&mut claims, &detail, Token::Id, true).unwrap();
        assert_eq!(claims["o"], json!({"a": [1]}));
    }

    #[test]
    fn scopes_are_added_and_suppressed() {
        let mut access = map(json!({"scope": "openid email"}));
        let detail = map(json!({"scopesToAdd": ["api/read", "openid"], "scopesToSuppress": ["email"]}));
        apply_scopes(&mut access, &detail).unwrap();
        assert_eq!(access["scope"], "openid api/read");
        assert!(apply_scopes(&mut access, &map(json!({"scopesToAdd": ["a b"]}))).is_err());
    }

    #[test]
    fn groups_are_overridden() {
        let start = GroupClaims { groups: vec!["a".into()], roles: vec!["role".into()], preferred_role: None };
        let mut g = start.clone();
        apply_groups(&mut g, Some(&json!({"groupsToOverride": ["b", "c"], "preferredRole": "r"}))).unwrap();
        assert_eq!(g.groups, vec!["b".to_owned(), "c".to_owned()]);
        assert_eq!((g.roles.len(), g.preferred_role.as_deref()), (0, Some("r")), "replaced, not merged");
        let mut kept = start.clone();
        apply_groups(&mut kept, None).unwrap();
        assert_eq!(kept, start, "absent: kept");
        for dropped in [json!(null), json!({})] {
            let mut g = start.clone();
            apply_groups(&mut g, Some(&dropped)).unwrap();
            assert_eq!(g, GroupClaims::default(), "{dropped}: suppressed");
        }
        assert!(apply_groups(&mut GroupClaims::default(), Some(&json!({"groupsToOverride": "b"}))).is_err());
        let mut g = start;
        suppress_groups(&mut g, &map(json!({"claimsToSuppress": ["cognito:groups"]}))).unwrap();
        assert_eq!(g, GroupClaims::default());
    }
}
