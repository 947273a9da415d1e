//! SMS through an HTTP webhook: each text message is POSTed as JSON
//! `{"to", "message", "pool", "kind", "username"}` to a configured URL (an operator's SMS
//! gateway, or a small relay to one), optionally with a bearer token. Anything that is not an
//! SMS with a number goes to the next outbox (SMTP or the development file). A failure is
//! `CodeDeliveryFailureException`; the message text (it holds a code) is never logged.

use std::sync::Arc;
use std::time::Duration;

use janus_types::{Error, Result};

use super::{Message, Outbox};

/// Where the webhook is.
#[derive(Clone)]
pub struct WebhookSettings {
    /// The URL messages are POSTed to (http or https).
    pub url: String,
    /// Sent as `Authorization: Bearer <token>` when set (never printed).
    pub token: Option<String>,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings").field("url", &self.url).finish_non_exhaustive()
    }
}

/// Sends SMS messages to a webhook.
pub struct SmsWebhook {
    settings: WebhookSettings,
    agent: ureq::Agent,
    next: Arc<dyn Outbox>,
}

impl SmsWebhook {
    /// A sender for `settings`; `next` takes every other message.
    pub fn new(settings: WebhookSettings, next: Arc<dyn Outbox>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        Self { settings, agent, next }
    }
}

impl Outbox for SmsWebhook {
    fn send(&self, msg: &Message) -> Result<()> {
        let to = match (&msg.medium[..], &msg.destination) {
            ("SMS", Some(number)) => number,
            _ => return self.next.send(msg),
        };
        let body = serde_json::json!({
            "to": to, "message": msg.body, "pool": msg.pool, "kind": msg.kind, "username": msg.username,
        });
        let mut req = self.agent.post(&self.settings.url).header("content-type", "application/json");
        if let Some(t) = &self.settings.token {
            req = req.header("authorization", &format!("Bearer {t}"));
        }
        let fail = |why: String| {
            tracing::warn!(pool = %msg.pool, user = %msg.username, kind = %msg.kind, error = %why, "SMS webhook failed");
            Error::CodeDeliveryFailureException("The SMS message could not be delivered.".into())
        };
        let resp = req.send(body.to_string()).map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        tracing::info!(pool = %msg.pool, user = %msg.username, kind = %msg.kind, "SMS sent to the webhook");
        Ok(())
    }
}
