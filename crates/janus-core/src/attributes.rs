//! User attributes against the pool's schema: the standard attributes every pool has, custom
//! attributes (`custom:` names, typed, with bounds), validation of values a caller sets, and
//! the sign-in alias keys derived from a user's attributes.

use serde::Deserialize;
use std::collections::BTreeMap;

use janus_types::entity::{NumberConstraints, PoolConfig, SchemaAttribute, StringConstraints};
use janus_types::{Error, Result};

/// Cognito's standard attributes: (name, data type, mutable).
const STANDARD: &[(&str, &str, bool)] = &[
    ("sub", "String", false),
    ("name", "String", true),
    ("given_name", "String", true),
    ("family_name", "String", true),
    ("middle_name", "String", true),
    ("nickname", "String", true),
    ("preferred_username", "String", true),
    ("profile", "String", true),
    ("picture", "String", true),
    ("website", "String", true),
    ("email", "String", true),
    ("email_verified", "Boolean", true),
    ("gender", "String", true),
    ("birthdate", "String", true),
    ("zoneinfo", "String", true),
    ("locale", "String", true),
    ("phone_number", "String", true),
    ("phone_number_verified", "Boolean", true),
    ("address", "String", true),
    ("updated_at", "Number", true),
    ("identities", "String", true),
];

/// The attributes that can serve as sign-in aliases.
pub const ALIAS_CAPABLE: &[&str] = &["email", "phone_number", "preferred_username"];

fn standard_entry(name: &str, data_type: &str, mutable: bool) -> SchemaAttribute {
    let (num, string) = match (name, data_type) {
        (_, "Boolean") => (None, None),
        ("updated_at", _) => (Some(NumberConstraints { min_value: Some("0".into()), max_value: None }), None),
        ("birthdate", _) => (None, Some(strings(10, 10))),
        ("sub", _) => (None, Some(strings(1, 2048))),
        _ => (None, Some(strings(0, 2048))),
    };
    SchemaAttribute {
        name: name.into(),
        attribute_data_type: data_type.into(),
        developer_only_attribute: false,
        mutable,
        required: name == "sub",
        number_attribute_constraints: num,
        string_attribute_constraints: string,
    }
}

fn strings(min: u32, max: u32) -> StringConstraints {
    StringConstraints { min_length: Some(min.to_string()), max_length: Some(max.to_string()) }
}

/// A `SchemaAttributeType` as a caller sends it.
#[allow(missing_docs)]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaInput {
    pub name: Option<String>,
    pub attribute_data_type: Option<String>,
    pub developer_only_attribute: Option<bool>,
    pub mutable: Option<bool>,
    pub required: Option<bool>,
    pub number_attribute_constraints: Option<NumberConstraints>,
    pub string_attribute_constraints: Option<StringConstraints>,
}

/// The schema of a new pool: the standard attributes, adjusted and extended by `input`.
pub fn build_schema(input: &[SchemaInput]) -> Result<Vec<SchemaAttribute>> {
    let mut schema: Vec<SchemaAttribute> = STANDARD.iter().map(|(n, t, m)| standard_entry(n, t, *m)).collect();
    for item in input {
        let name = item.name.as_deref().unwrap_or_default();
        if let Some(existing) = schema.iter_mut().find(|a| a.name == name) {
            if name == "sub" {
                return Err(Error::invalid("sub cannot be modified in the schema."));
            }
            let retyped = item.attribute_data_type.as_deref().is_some_and(|t| t != existing.attribute_data_type);
            if retyped || item.developer_only_attribute == Some(true) {
                return Err(Error::invalid(format!(
                    "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"
                )));
            }
            check_constraints(name, item)?;
            if let Some(r) = item.required {
                existing.required = r;
            }
            if let Some(m) = item.mutable {
                existing.mutable = m;
            }
            if item.string_attribute_constraints.is_some() {
                existing.string_attribute_constraints = item.string_attribute_constraints.clone();
            }
            if item.number_attribute_constraints.is_some() {
                existing.number_attribute_constraints = item.number_attribute_constraints.clone();
            }
            continue;
        }
        add_custom(&mut schema, item)?;
    }
    Ok(schema)
}

/// Add one custom attribute to `schema` (AddCustomAttributes and CreateUserPool).
pub fn add_custom(schema: &mut Vec<SchemaAttribute>, item: &SchemaInput) -> Result<()> {
    let raw = item.name.as_deref().unwrap_or_default();
    let base = raw.strip_prefix("custom:").unwrap_or(raw);
    if base.is_empty() || base.chars().count() > 20 {
        return Err(Error::invalid(format!("Invalid custom attribute name: {raw}")));
    }
    let dev_only = item.developer_only_attribute.unwrap_or(false);
    let name = if dev_only { format!("dev:custom:{base}") } else { format!("custom:{base}") };
    if schema.iter().any(|a| a.name == name || a.name == format!("custom:{base}")) {
        return Err(Error::invalid(format!("Existing attribute already has name {name}.")));
    }
    if item.required == Some(true) {
        return Err(Error::invalid("Required custom attributes are not supported currently."));
    }
    if schema.iter().filter(|a| a.name.contains("custom:")).count() >= 50 {
        return Err(Error::LimitExceededException("A pool can have at most 50 custom attributes.".into()));
    }
    let bad_type =
        || Error::invalid("Invalid AttributeDataType input, consider using the provided AttributeDataType enum.");
    let data_type = item.attribute_data_type.clone().ok_or_else(bad_type)?;
    check_constraints(&name, item)?;
    // As Cognito describes them: a Number without bounds has no NumberAttributeConstraints,
    // a String always has StringAttributeConstraints (`{}` without bounds).
    let (num, string) = match data_type.as_str() {
        "Number" => (item.number_attribute_constraints.clone(), None),
        "String" => (None, Some(item.string_attribute_constraints.clone().unwrap_or_default())),
        "Boolean" | "DateTime" => (None, None),
        _ => return Err(bad_type()),
    };
    schema.push(SchemaAttribute {
        name,
        attribute_data_type: data_type,
        developer_only_attribute: dev_only,
        mutable: item.mutable.unwrap_or(true),
        required: false,
        number_attribute_constraints: num,
        string_attribute_constraints: string,
    });
    Ok(())
}

/// Bounds a schema attribute may have: whole numbers, a minimum not above its maximum, and
/// string lengths of at most 2048.
fn check_constraints(name: &str, item: &SchemaInput) -> Result<()> {
    let parse = |member: &str, v: &Option<String>| -> Result<Option<i64>> {
        let Some(text) = v else { return Ok(None) };
        text.trim().parse::<i64>().map(Some).map_err(|_| {
            Error::invalid(format!("Invalid {member} for attribute {name}: {text} is not a whole number."))
        })
    };
    if let Some(s) = &item.string_attribute_constraints {
        let (min, max) = (parse("MinLength", &s.min_length)?, parse("MaxLength", &s.max_length)?);
        if min.is_some_and(|m| m < 0) || max.is_some_and(|m| !(0..=2048).contains(&m)) {
            return Err(Error::invalid(format!(
                "Invalid length constraints for attribute {name}: lengths are 0 to 2048."
            )));
        }
        if let (Some(min), Some(max)) = (min, max) {
            if min > max {
                return Err(Error::invalid(format!(
                    "Invalid length constraints for attribute {name}: MinLength {min} is greater than MaxLength {max}."
                )));
            }
        }
    }
    if let Some(n) = &item.number_attribute_constraints {
        if let (Some(min), Some(max)) = (parse("MinValue", &n.min_value)?, parse("MaxValue", &n.max_value)?) {
            if min > max {
                return Err(Error::invalid(format!(
                    "Invalid value constraints for attribute {name}: MinValue {min} is greater than MaxValue {max}."
                )));
            }
        }
    }
    Ok(())
}

/// Why attributes are being set: on creation immutable attributes may be set once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetMode {
    /// A new user.
    Create,
    /// An existing user.
    Update,
}

/// `value` as stored: Cognito takes `email_verified` and `phone_number_verified` as "true" or
/// "false" in any case ("True", "FALSE") and keeps them lower-case.
pub fn normalised(name: &str, value: &str) -> String {
    let flag = name == "email_verified" || name == "phone_number_verified";
    if flag && (value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")) {
        value.to_ascii_lowercase()
    } else {
        value.to_owned()
    }
}

/// The app client may write every attribute in `names`: its WriteAttributes, when it has
/// them, name each (without WriteAttributes a client writes every attribute).
pub fn check_writable<'a>(client: &janus_types::Client, mut names: impl Iterator<Item = &'a str>) -> Result<()> {
    let Some(allowed) = client.config.get("WriteAttributes").and_then(serde_json::Value::as_array) else {
        return Ok(());
    };
    if allowed.is_empty() {
        return Ok(());
    }
    match names.find(|n| !allowed.iter().any(|a| a.as_str() == Some(n))) {
        Some(name) => {
            Err(Error::NotAuthorizedException(format!("A client attempted to write unauthorized attribute {name}")))
        }
        None => Ok(()),
    }
}

/// Every name in `names` is in the pool's schema; otherwise one error naming all that are not.
pub fn known(config: &PoolConfig, names: &[String]) -> Result<()> {
    let unknown: Vec<&str> = names.iter().filter(|n| config.schema(n).is_none()).map(String::as_str).collect();
    match unknown.len() {
        0 => Ok(()),
        1 => Err(Error::invalid(format!("{}: Attribute does not exist in the schema.", unknown[0]))),
        _ => Err(Error::invalid(format!("{}: Attributes do not exist in the schema.", unknown.join(", ")))),
    }
}

/// Check that each `(name, value)` may be set on a user of this pool.
pub fn validate(config: &PoolConfig, attrs: &[(String, String)], mode: SetMode) -> Result<()> {
    for (name, value) in attrs {
        let bad = |why: &str| Err(Error::invalid(format!("{name}: {why}")));
        let Some(schema) = config.schema(name) else {
            return bad("Attribute does not exist in the schema.");
        };
        if name == "sub" || (mode == SetMode::Update && !schema.mutable) {
            return bad("Attribute cannot be updated. (changing an immutable attribute)");
        }
        if value.chars().count() > 2048 {
            return bad("Attribute value is too long.");
        }
        check_value(schema, value).or_else(|why| bad(&why))?;
    }
    Ok(())
}

fn check_value(schema: &SchemaAttribute, value: &str) -> std::result::Result<(), String> {
    match schema.attribute_data_type.as_str() {
        "Boolean" if value != "true" && value != "false" => return Err("Attribute value must be true or false.".into()),
        "Number" => {
            let n: f64 = value.parse().map_err(|_| "Number expected.".to_string())?;
            let c = schema.number_attribute_constraints.clone().unwrap_or_default();
            let bound = |b: &Option<String>| b.as_deref().and_then(|s| s.parse::<f64>().ok());
            if bound(&c.min_value).is_some_and(|m| n < m) || bound(&c.max_value).is_some_and(|m| n > m) {
                return Err("Number is out of the allowed range.".into());
            }
        }
        "String" => {
            let c = schema.string_attribute_constraints.clone().unwrap_or_default();
            let len = value.chars().count();
            let bound = |b: &Option<String>| b.as_deref().and_then(|s| s.parse::<usize>().ok());
            if bound(&c.min_length).is_some_and(|m| len < m) || bound(&c.max_length).is_some_and(|m| len > m) {
                return Err("String length is out of the allowed range.".into());
            }
        }
        _ => {}
    }
    match schema.name.as_str() {
        "email" if !is_email(value) => Err("Invalid email address format.".into()),
        "phone_number" if !is_phone(value) => Err("Invalid phone number format.".into()),
        _ => Ok(()),
    }
}

/// A plausible email address: one `@` with text on both sides and a dot in the domain.
pub fn is_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !v.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// An E.164 phone number: `+` and 2–15 digits.
pub fn is_phone(v: &str) -> bool {
    v.strip_prefix('+').is_some_and(|d| (2..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

/// The required attributes missing from `attrs` (for a new user).
pub fn missing_required(config: &PoolConfig, attrs: &BTreeMap<String, String>) -> Vec<String> {
    config
        .schema_attributes
        .iter()
        .filter(|a| a.required && a.name != "sub" && !attrs.contains_key(&a.name))
        .map(|a| a.name.clone())
        .collect()
}

/// The alias index key for `value` of attribute `name` (emails compare case-insensitively).
pub fn alias_key(name: &str, value: &str) -> String {
    match name {
        "email" | "preferred_username" => format!("{name}:{}", value.to_lowercase()),
        _ => format!("{name}:{value}"),
    }
}

/// The sign-in alias keys a user with `attrs` holds in this pool: username attributes always,
/// alias attributes once verified (`preferred_username` needs no verification).
pub fn aliases_of(config: &PoolConfig, attrs: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for &name in ALIAS_CAPABLE {
        let Some(value) = attrs.get(name) else { continue };
        let as_username = config.username_attributes.iter().any(|a| a == name);
        let as_alias = config.alias_attributes.iter().any(|a| a == name)
            && (name == "preferred_username" || attrs.get(&format!("{name}_verified")).is_some_and(|v| v == "true"));
        if as_username || as_alias {
            out.push(alias_key(name, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_attributes_get_prefixed_and_checked() {
        let input = vec![SchemaInput {
            name: Some("tier".into()),
            attribute_data_type: Some("Number".into()),
            developer_only_attribute: None,
            mutable: Some(false),
            required: None,
            number_attribute_constraints: Some(NumberConstraints {
                min_value: Some("1".into()),
                max_value: Some("3".into()),
            }),
            string_attribute_constraints: None,
        }];
        let schema = build_schema(&input).unwrap();
        let tier = schema.iter().find(|a| a.name == "custom:tier").unwrap();
        assert!(!tier.mutable);
        assert!(check_value(tier, "2").is_ok());
        assert!(check_value(tier, "4").is_err());
        assert!(check_value(tier, "x").is_err());
    }

    #[test]
    fn emails_and_phones() {
        assert!(is_email("a@b.co"));
        assert!(!is_email("a@b"));
        assert!(is_phone("+12065551234"));
        assert!(!is_phone("12065551234"));
    }
}
