//! Identifiers as newtypes, each parsed once where it enters Janus. A value of one of these
//! types is known to be well formed; code past the edge never re-checks raw strings.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::Error;

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A region name such as `us-east-1`.
    RegionName
);
string_id!(
    /// A user pool id, `<region>_<suffix>`; the same in every region holding the pool.
    PoolId
);
string_id!(
    /// An app client id: 26 lowercase letters and digits, like Cognito's.
    ClientId
);
string_id!(
    /// A user's immutable subject, a UUID.
    Sub
);
string_id!(
    /// A group name.
    GroupName
);
string_id!(
    /// The key a user is stored under: the user name, folded to lower case when the pool's
    /// user names are case-insensitive.
    UserKey
);

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl RegionName {
    /// Parse `xx-name-N` style region names (letters, digits and dashes, 1–32 chars).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.contains('_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(format!("Invalid region name: {s:?}")))
        }
    }
}

impl PoolId {
    /// Parse a pool id: `[\w-]+_[0-9a-zA-Z]+`, at most 55 chars.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let valid = s.len() <= 55
            && s.rsplit_once('_').is_some_and(|(region, suffix)| {
                !region.is_empty()
                    && region.chars().all(|c| is_word(c) || c == '-')
                    && !suffix.is_empty()
                    && suffix.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(format!("Invalid user pool id provided: {s}")))
        }
    }

    /// Build a new pool id from a region and a random suffix.
    pub fn new(region: &RegionName, suffix: &str) -> Self {
        Self(format!("{region}_{suffix}"))
    }

    /// The region prefix (the region where the pool was created).
    pub fn region_part(&self) -> &str {
        self.0.rsplit_once('_').map(|(r, _)| r).unwrap_or("")
    }

    /// The part after `_`, which SRP calls the pool name.
    pub fn suffix(&self) -> &str {
        self.0.rsplit_once('_').map(|(_, s)| s).unwrap_or("")
    }
}

impl ClientId {
    /// Parse a client id: `[\w+]+`, at most 128 chars.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if !s.is_empty() && s.len() <= 128 && s.chars().all(|c| is_word(c) || c == '+') {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(format!("Invalid client id provided: {s}")))
        }
    }
}

impl Sub {
    /// Wrap a freshly generated UUID string.
    pub fn new(uuid: String) -> Self {
        Self(uuid)
    }
}

impl GroupName {
    /// Parse a group name: 1–128 chars of Cognito's `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if !s.is_empty() && s.chars().count() <= 128 && !s.chars().any(char::is_whitespace) {
            Ok(Self(s.to_owned()))
        } else {
            Err(Error::invalid(format!("Invalid group name: {s}")))
        }
    }
}

impl UserKey {
    /// The storage key of a user name under the pool's case sensitivity.
    pub fn of(username: &str, case_sensitive: bool) -> Self {
        if case_sensitive {
            Self(username.to_owned())
        } else {
            Self(username.to_lowercase())
        }
    }

    /// Wrap a key read back from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

/// A position in a pool's change log; the first change is 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

/// A pool's failover generation; promotion increments it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(pub u64);

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_ids_parse_like_cognito() {
        let id = PoolId::parse("us-east-1_AbC123xyz").unwrap();
        assert_eq!(id.region_part(), "us-east-1");
        assert_eq!(id.suffix(), "AbC123xyz");
        assert!(PoolId::parse("us-east-1").is_err());
        assert!(PoolId::parse("us-east-1_").is_err());
        assert!(PoolId::parse("us east-1_abc").is_err());
        assert!(PoolId::parse(&format!("us-east-1_{}", "a".repeat(60))).is_err());
    }

    #[test]
    fn user_keys_fold_case_only_when_insensitive() {
        assert_eq!(UserKey::of("Alice", true).as_str(), "Alice");
        assert_eq!(UserKey::of("Alice", false).as_str(), "alice");
    }
}
