//! The operation table: Cognito operation name → handler and how its caller authenticates.
//! It is data, assembled from one slice per module; the dispatcher looks names up here.
//! Each handler decodes its typed input, calls one service, and encodes the response.

mod auth;
mod clients;
mod devices;
mod groups;
mod imports;
mod keys;
mod me;
mod mfa;
mod oauth_config;
mod pools;
mod replicas;
mod signup;
mod tags;
mod users;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;

use janus_core::placement::Access;
use janus_core::Services;
use janus_repl::Replicator;
use janus_types::Error;
use std::sync::Arc;

/// How a caller of an operation authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// SigV4 with the administrator's credentials.
    Admin,
    /// No signature (the SDKs send these unsigned); the operation checks its own proof.
    Public,
}

/// A handler: typed work on a JSON input, with the region's services or, for the
/// operations that involve other regions, its replicator.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Runs on this region's services.
    Local(fn(&Services, Value) -> Result<Value, Error>),
    /// Involves other regions.
    Replication(fn(&Arc<Replicator>, Value) -> Result<Value, Error>),
}

type Local = fn(&Services, Value) -> Result<Value, Error>;

/// One operation.
#[derive(Clone, Copy)]
pub struct Operation {
    /// Cognito's operation name.
    pub name: &'static str,
    /// How callers authenticate.
    pub auth: Auth,
    /// What it does to its pool (decides where it may run: primary or secondary).
    pub access: Access,
    /// What it does.
    pub handler: Handler,
    /// A point read (one pool, one user): on a store whose reads are local calls it runs on
    /// the connection's own task, since handing it to a blocking thread and back costs more
    /// than it does ([`Operation::point_read`]).
    pub point_read: bool,
}

impl Operation {
    /// Mark a read that touches a few rows by key, never a scan: see [`Operation::point_read`].
    pub(crate) const fn point_read(self) -> Self {
        Operation { point_read: true, ..self }
    }
}

/// An administrator write (primary region only).
pub(crate) const fn admin(name: &'static str, handler: Local) -> Operation {
    Operation {
        name,
        auth: Auth::Admin,
        access: Access::AdminWrite,
        handler: Handler::Local(handler),
        point_read: false,
    }
}

/// An administrator read (any region).
pub(crate) const fn admin_read(name: &'static str, handler: Local) -> Operation {
    Operation {
        name,
        auth: Auth::Admin,
        access: Access::AdminRead,
        handler: Handler::Local(handler),
        point_read: false,
    }
}

/// An administrator operation about no particular pool.
pub(crate) const fn admin_global(name: &'static str, handler: Local) -> Operation {
    Operation { name, auth: Auth::Admin, access: Access::Global, handler: Handler::Local(handler), point_read: false }
}

/// An administrator operation that involves other regions.
pub(crate) const fn admin_replication(
    name: &'static str,
    access: Access,
    handler: fn(&Arc<Replicator>, Value) -> Result<Value, Error>,
) -> Operation {
    Operation { name, auth: Auth::Admin, access, handler: Handler::Replication(handler), point_read: false }
}

/// An administrator operation that does end-user work (AdminInitiateAuth, …).
pub(crate) const fn admin_user_read(name: &'static str, handler: Local) -> Operation {
    Operation { name, auth: Auth::Admin, access: Access::UserRead, handler: Handler::Local(handler), point_read: false }
}

/// An unsigned end-user operation that changes data (primary region only).
pub(crate) const fn public(name: &'static str, handler: Local) -> Operation {
    Operation {
        name,
        auth: Auth::Public,
        access: Access::UserWrite,
        handler: Handler::Local(handler),
        point_read: false,
    }
}

/// An unsigned end-user operation a secondary serves once ACTIVE (sign-in, GetUser, …).
pub(crate) const fn public_read(name: &'static str, handler: Local) -> Operation {
    Operation {
        name,
        auth: Auth::Public,
        access: Access::UserRead,
        handler: Handler::Local(handler),
        point_read: false,
    }
}

/// Every implemented operation, by name.
pub fn table() -> HashMap<&'static str, Operation> {
    [
        pools::OPS,
        clients::OPS,
        devices::OPS,
        imports::OPS,
        users::OPS,
        groups::OPS,
        tags::OPS,
        auth::OPS,
        me::OPS,
        mfa::OPS,
        signup::OPS,
        replicas::OPS,
        keys::OPS,
        oauth_config::OPS,
    ]
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
/// A request's `ClientMetadata` (passed to the triggers it runs).
pub(crate) fn client_metadata(v: &Value) -> Result<std::collections::BTreeMap<String, String>, Error> {
    match v.get("ClientMetadata") {
        None | Some(Value::Null) => Ok(Default::default()),
        Some(m) => {
            serde_json::from_value(m.clone()).map_err(|_| Error::invalid("ClientMetadata must map strings to strings."))
        }
    }
}

pub(crate) fn empty() -> Result<Value, Error> {
    Ok(json!({}))
}

/// A page limit: the caller's, or Cognito's default of 60.
pub(crate) fn limit(v: Option<usize>) -> usize {
    v.unwrap_or(60).clamp(1, 60)
}
