//! The ListUsers filter a store evaluates: one searchable attribute, exact or prefix match.
//! Parsing Cognito's filter text happens in the service layer; this is the parsed form.

/// The attributes Cognito's ListUsers can search.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAttr {
    Username,
    Email,
    PhoneNumber,
    Name,
    GivenName,
    FamilyName,
    PreferredUsername,
    UserStatus,
    Status,
    Sub,
}

impl FilterAttr {
    /// The attribute named in a filter expression, if searchable.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "username" => Self::Username,
            "email" => Self::Email,
            "phone_number" => Self::PhoneNumber,
            "name" => Self::Name,
            "given_name" => Self::GivenName,
            "family_name" => Self::FamilyName,
            "preferred_username" => Self::PreferredUsername,
            "cognito:user_status" => Self::UserStatus,
            "status" => Self::Status,
            "sub" => Self::Sub,
            _ => return None,
        })
    }
}

/// `=` or `^=`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Equals,
    StartsWith,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    /// Which attribute.
    pub attr: FilterAttr,
    /// How to compare.
    pub op: FilterOp,
    /// The value compared with (for `status`: `Enabled` or `Disabled`).
    pub value: String,
}
