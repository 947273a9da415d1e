//! ListUsers and its filter grammar: `attribute = "value"` (exact) or `attribute ^= "value"`
//! (prefix) on the attributes Cognito documents as searchable; an empty filter lists all.

use janus_store::{FilterAttr, FilterOp, UserFilter};
use janus_types::{Error, PoolId, Result, User, UserKey};

use super::pool_of;
use crate::{page, Services};

/// Parse Cognito's ListUsers filter text; `None` for an empty filter.
pub fn parse_filter(text: &str) -> Result<Option<UserFilter>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid("Error while parsing filter.");
    // The operator is whatever precedes the quoted value; a `^=` inside the value is text.
    let head = &text[..text.find('"').unwrap_or(text.len())];
    let (name, op, rest) = match head.find("^=") {
        Some(i) => (&text[..i], FilterOp::StartsWith, &text[i + 2..]),
        None => {
            let i = head.find('=').ok_or_else(bad)?;
            (&text[..i], FilterOp::Equals, &text[i + 1..])
        }
    };
    let name = name.trim();
    let attr = FilterAttr::parse(name).ok_or_else(|| Error::invalid(format!("Invalid search attribute: {name}")))?;
    let quoted = rest.trim();
    let value = quoted.strip_prefix('"').and_then(|v| v.strip_suffix('"')).ok_or_else(bad)?.replace("\\\"", "\"");
    if attr == FilterAttr::Status && !(value == "Enabled" || value == "Disabled") {
        return Err(Error::invalid("status must be Enabled or Disabled."));
    }
    // Cognito documents cognito:user_status as case-insensitive; statuses are stored upper-case.
    let value = if attr == FilterAttr::UserStatus { value.to_uppercase() } else { value };
    Ok(Some(UserFilter { attr, op, value }))
}

impl Services {
    /// ListUsers: one page of users and the next token.
    pub fn list_users(
        &self,
        pool_id: &PoolId,
        filter: Option<&str>,
        limit: usize,
        token: Option<&str>,
    ) -> Result<(Vec<User>, Option<String>)> {
        let filter = filter.map(parse_filter).transpose()?.flatten();
        let after = token.map(page::key).transpose()?.map(UserKey::from_stored);
        let r = self.store.read()?;
        pool_of(&*r, pool_id)?;
        let users = r.users(pool_id, filter.as_ref(), after.as_ref(), limit + 1)?;
        Ok(page::split(users, limit, |u| u.key.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_filter(r#"email ^= "bob""#).unwrap().unwrap();
        assert_eq!((f.attr, f.op, f.value.as_str()), (FilterAttr::Email, FilterOp::StartsWith, "bob"));
        let f = parse_filter(r#"cognito:user_status="CONFIRMED""#).unwrap().unwrap();
        assert_eq!((f.attr, f.op), (FilterAttr::UserStatus, FilterOp::Equals));
        assert!(parse_filter("").unwrap().is_none());
        let f = parse_filter(r#"name = "a^=b""#).unwrap().unwrap();
        assert_eq!((f.op, f.value.as_str()), (FilterOp::Equals, "a^=b"), "regression: issue 2 conformance");
        let f = parse_filter(r#"cognito:user_status = "confirmed""#).unwrap().unwrap();
        assert_eq!(f.value, "CONFIRMED");
        for bad in [r#"custom:x = "1""#, "email = bob", r#"email ~ "x""#, r#"status = "On""#] {
            assert_eq!(parse_filter(bad).unwrap_err().code(), "InvalidParameterException", "{bad}");
        }
    }
}
