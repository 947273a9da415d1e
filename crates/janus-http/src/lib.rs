//! Janus's HTTP surface: the Cognito JSON 1.1 dispatcher (`POST /`), SigV4 verification of
//! administrator calls, request validation against botocore's model, OpenID discovery and
//! JWKS under each pool's issuer path, `/health`, `/ready`, and `/metrics` (Prometheus).
//! Nothing below this crate knows about HTTP.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cors;
mod discovery;
mod dispatch;
mod health;
pub mod limits;
mod metrics;
pub mod model;
pub mod oauth;
pub mod ops;
mod pages;
mod render;
mod replication;
pub mod server;
pub mod sigv4;
mod telemetry;
pub mod tls;
mod upload;
mod witness;

use axum::routing::{get, post};
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;

use janus_core::Services;
use janus_repl::Replicator;

pub use sigv4::AdminCredentials;
pub use witness::witness_router;

/// The largest request body accepted, in bytes. Cognito's largest inputs (a pool with a full
/// schema, many attributes) are a few tens of KiB.
pub const MAX_BODY: usize = 1024 * 1024;

/// What every request handler shares.
pub struct AppState {
    /// The behaviour.
    pub services: Services,
    /// Replication with the other regions.
    pub replicator: Arc<Replicator>,
    /// Who may call administrator operations.
    pub admin: AdminCredentials,
    /// OAuth endpoint settings.
    pub oauth: OAuthSettings,
    /// Connection and request-body limits.
    pub limits: limits::Limits,
    /// The bearer token `/metrics` requires (none: open to whoever reaches the port).
    pub metrics_token: Option<String>,
    model: model::Model,
    ops: HashMap<&'static str, ops::Operation>,
    telemetry: telemetry::Telemetry,
}

/// Settings of the OAuth endpoints and hosted pages.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Prefix domains answer at `<prefix>.auth.<region>.<domain_base>`.
    pub domain_base: String,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self { domain_base: "amazoncognito.com".into() }
    }
}

impl AppState {
    /// Build the shared state (parses the embedded service model).
    pub fn new(replicator: Arc<Replicator>, admin: AdminCredentials) -> anyhow::Result<Self> {
        let services = replicator.services.clone();
        Ok(Self {
            services,
            replicator,
            admin,
            oauth: OAuthSettings::default(),
            limits: limits::Limits::default(),
            metrics_token: None,
            model: model::Model::load()?,
            ops: ops::table(),
            telemetry: Default::default(),
        })
    }
}

/// The whole HTTP application.
pub fn router(state: Arc<AppState>) -> Router {
    let budget = limits::BodyBudget::new(state.limits.body_budget_bytes);
    Router::new()
        .route("/", post(dispatch::cognito))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::metrics))
        .route("/{pool}/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/{pool}/.well-known/jwks.json", get(discovery::jwks))
        .merge(replication::router())
        .merge(oauth::router())
        .merge(upload::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), health::gate))
        .layer(axum::middleware::from_fn_with_state(budget, limits::meter))
        .layer(axum::middleware::from_fn(cors::cors))
        .with_state(state)
}
