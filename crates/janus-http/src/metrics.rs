//! `GET /metrics`: Prometheus text exposition of the request counters (`telemetry`) and of
//! the replication state of every pool this
//! region holds — role, epoch, head `seq`, and per replica (as the primary sees it) applied
//! `seq`, lag in changes and seconds, the age of its last report and whether a synchronous
//! write went ahead without it; as a replica, the changes it applied (the apply rate). Values are read at scrape time from the same state
//! `JanusAdmin.DescribeReplication` reports, so the two never disagree.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::Arc;

use janus_repl::admin::Description;
use janus_repl::Replicator;

use crate::AppState;

/// The metric families: name, type, help.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("janus_pool_primary", "gauge", "1 when this region is the pool's primary, 0 when a secondary."),
    ("janus_pool_epoch", "gauge", "The pool's epoch (promotions so far, plus one)."),
    ("janus_pool_seq", "gauge", "Last change committed (primary) or applied (secondary) here."),
    ("janus_replica_applied_seq", "gauge", "Last change the replica reported applied."),
    (
        "janus_replica_changes_applied_total",
        "counter",
        "Changes this region applied as a replica since start-up (rate() of it is the apply rate).",
    ),
    ("janus_replica_lag_changes", "gauge", "Changes the replica trails the primary by."),
    ("janus_replica_lag_seconds", "gauge", "Age of the oldest change the replica has not applied."),
    ("janus_replica_report_age_seconds", "gauge", "Seconds since the replica last reported."),
    ("janus_replica_lagging", "gauge", "1 when a synchronous write went ahead without the replica."),
    ("janus_replica_active", "gauge", "1 when the replica serves end users (ACTIVE)."),
    ("janus_region_available", "gauge", "0 while an administrator has taken the region out of service."),
    ("janus_failover_auto_promotions_total", "counter", "Promotions made by the automatic failover watcher."),
    ("janus_trigger_calls_total", "counter", "Calls of Lambda triggers' functions, by trigger."),
    ("janus_trigger_errors_total", "counter", "Trigger calls that ended in an error (failed, unreachable, malformed)."),
    ("janus_trigger_seconds_total", "counter", "Seconds spent waiting for triggers' functions, by trigger."),
    (
        "janus_key_provider_errors_total",
        "counter",
        "Key provider errors (refused or failed key uses) by provider and kind.",
    ),
];

pub async fn metrics(State(st): State<Arc<AppState>>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &st.metrics_token {
        let sent = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if !sent.is_some_and(|s| janus_crypto::same_secret(s.trim().as_bytes(), token.as_bytes())) {
            return (StatusCode::UNAUTHORIZED, [("www-authenticate", "Bearer")], "a bearer token is required")
                .into_response();
        }
    }
    let r = st.replicator.clone();
    match tokio::task::spawn_blocking(move || render(&r)).await {
        Ok(Ok(mut text)) => {
            st.telemetry.render(&mut text);
            ([("content-type", "text/plain; version=0.0.4")], text).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = ?e, "metrics failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "metrics unavailable\n").into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn render(r: &Replicator) -> janus_types::Result<String> {
    let mut samples: Vec<(&str, String, f64)> = vec![
        ("janus_region_available", String::new(), f64::from(u8::from(r.available()))),
        ("janus_failover_auto_promotions_total", String::new(), r.auto_promotions() as f64),
    ];
    if let Some(v) = r.services.vault() {
        for (provider, kind, n) in v.error_counts() {
            samples.push((
                "janus_key_provider_errors_total",
                format!("provider=\"{provider}\",kind=\"{kind}\""),
                n as f64,
            ));
        }
    }
    for (trigger, c) in r.services.trigger_stats().snapshot() {
        let labels = format!("trigger=\"{trigger}\"");
        samples.push(("janus_trigger_calls_total", labels.clone(), c.calls as f64));
        samples.push(("janus_trigger_errors_total", labels.clone(), c.errors as f64));
        samples.push(("janus_trigger_seconds_total", labels, c.seconds));
    }
    for (pool, n) in r.applied_totals() {
        samples.push(("janus_replica_changes_applied_total", format!("pool=\"{pool}\""), n as f64));
    }
    for pool in r.pool_ids()? {
        match r.describe(&pool) {
            Ok(d) => samples.extend(pool_samples(&d)),
            Err(e) => tracing::debug!(pool = %pool, error = %e, "pool vanished while scraping"),
        }
    }
    let mut out = String::new();
    for (name, kind, help) in FAMILIES {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (_, labels, value) in samples.iter().filter(|(n, _, _)| n == name) {
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
    }
    Ok(out)
}

fn pool_samples(d: &Description) -> Vec<(&'static str, String, f64)> {
    let pool = format!("pool=\"{}\"", d.user_pool_id);
    let mut out = vec![
        ("janus_pool_primary", pool.clone(), f64::from(u8::from(d.role == "PRIMARY"))),
        ("janus_pool_epoch", pool.clone(), d.epoch as f64),
        ("janus_pool_seq", pool.clone(), d.seq as f64),
    ];
    for rep in &d.replicas {
        let labels = format!("{pool},replica=\"{}\"", rep.region);
        out.push(("janus_replica_lagging", labels.clone(), f64::from(u8::from(rep.lagging))));
        out.push(("janus_replica_active", labels.clone(), f64::from(u8::from(rep.status == "ACTIVE"))));
        let known = [
            ("janus_replica_applied_seq", rep.applied_seq.map(|v| v as f64)),
            ("janus_replica_lag_changes", rep.lag_changes.map(|v| v as f64)),
            ("janus_replica_lag_seconds", rep.lag_seconds),
            ("janus_replica_report_age_seconds", rep.last_report_age_seconds),
        ];
        out.extend(known.into_iter().filter_map(|(name, v)| v.map(|v| (name, labels.clone(), v))));
    }
    out
}
