//! Helpers for reading request members as real clients send them.

use serde::{Deserialize, Deserializer};

/// An optional member sent as `null` (amazon-cognito-identity-js sends `ValidationData: null`)
/// reads as its default, like an absent one: `#[serde(default, deserialize_with = "…")]`.
pub fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}
