//! The operation table: Cognito operation name → handler and how its caller authenticates.
//! It is data, assembled from one slice per module; the dispatcher looks names up here.
//! Each handler decodes its typed input, calls one service, and encodes the response.

mod auth;
mod clients;
mod groups;
mod me;
mod pools;
mod signup;
mod tags;
mod users;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;

use janus_core::Services;
use janus_types::Error;

/// How a caller of an operation authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// SigV4 with the administrator's credentials.
    Admin,
    /// No signature (the SDKs send these unsigned); the operation checks its own proof.
    Public,
}

/// A handler: typed work on a JSON input.
pub type Handler = fn(&Services, Value) -> Result<Value, Error>;

/// One operation.
#[derive(Clone, Copy)]
pub struct Operation {
    /// Cognito's operation name.
    pub name: &'static str,
    /// How callers authenticate.
    pub auth: Auth,
    /// What it does.
    pub handler: Handler,
}

/// Shorthand for an administrator operation.
pub(crate) const fn admin(name: &'static str, handler: Handler) -> Operation {
    Operation { name, auth: Auth::Admin, handler }
}

/// Shorthand for an operation the SDKs send unsigned.
pub(crate) const fn public(name: &'static str, handler: Handler) -> Operation {
    Operation { name, auth: Auth::Public, handler }
}

/// Every implemented operation, by name.
pub fn table() -> HashMap<&'static str, Operation> {
    [pools::OPS, clients::OPS, users::OPS, groups::OPS, tags::OPS, auth::OPS, me::OPS, signup::OPS]
        .iter()
        .flat_map(|ops| ops.iter())
        .map(|op| (op.name, *op))
        .collect()
}

/// Decode a (model-validated) input into its typed form.
pub(crate) fn input<T: DeserializeOwned>(v: Value) -> Result<T, Error> {
    serde_json::from_value(v).map_err(|e| Error::invalid(format!("Invalid request: {e}")))
}

/// The empty response most mutations return.
pub(crate) fn empty() -> Result<Value, Error> {
    Ok(json!({}))
}

/// A page limit: the caller's, or Cognito's default of 60.
pub(crate) fn limit(v: Option<usize>) -> usize {
    v.unwrap_or(60).clamp(1, 60)
}
