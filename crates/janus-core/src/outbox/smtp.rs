//! Email through an SMTP server (lettre): implicit TLS, STARTTLS, or plain for a local relay.
//! SMS messages fall through to the file outbox until an SMS sender exists.

use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message as Email, SmtpTransport, Transport};

use janus_types::{Error, Result};

use super::{FileOutbox, Message, Outbox};

/// How to reach the SMTP server.
#[derive(Clone)]
pub struct SmtpSettings {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: String,
    /// The From address.
    pub from: String,
    /// Optional login.
    pub username: Option<String>,
    /// Optional password (never printed).
    pub password: Option<String>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Sends email over SMTP.
pub struct SmtpOutbox {
    transport: SmtpTransport,
    from: lettre::message::Mailbox,
    fallback: FileOutbox,
}

impl SmtpOutbox {
    /// Connect lazily to the server `s` describes; `fallback` takes what SMTP cannot send.
    pub fn new(s: &SmtpSettings, fallback: FileOutbox) -> anyhow::Result<Self> {
        let builder = match s.security.as_str() {
            "tls" => SmtpTransport::relay(&s.host)?,
            "starttls" => SmtpTransport::starttls_relay(&s.host)?,
            "none" => SmtpTransport::builder_dangerous(&s.host),
            other => anyhow::bail!("smtp.security must be tls, starttls or none, not {other:?}"),
        };
        let mut builder = builder.port(s.port);
        if let (Some(u), Some(p)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
        }
        Ok(Self { transport: builder.build(), from: s.from.parse()?, fallback })
    }
}

impl Outbox for SmtpOutbox {
    fn send(&self, msg: &Message) -> Result<()> {
        let to = match (&msg.medium[..], &msg.destination) {
            ("EMAIL", Some(addr)) => addr,
            _ => return self.fallback.send(msg),
        };
        let subject = match (msg.subject.as_deref(), msg.kind.as_str()) {
            (Some(s), _) => s,
            (None, "invitation") => "Your temporary password",
            (None, _) => "Your verification code",
        };
        // The pool's own From (EmailConfiguration) when it is an address; else this node's.
        let from = msg.from.as_deref().and_then(|f| f.parse().ok()).unwrap_or_else(|| self.from.clone());
        let mut email = Email::builder().from(from);
        if let Some(reply_to) = msg.reply_to.as_deref().and_then(|r| r.parse().ok()) {
            email = email.reply_to(reply_to);
        }
        let email = email
            .to(to.parse().map_err(|e| Error::invalid(format!("Invalid email address: {e}")))?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(msg.body.clone())
            .map_err(Error::internal)?;
        self.transport.send(&email).map_err(Error::internal)?;
        tracing::info!(pool = %msg.pool, user = %msg.username, kind = %msg.kind, "email sent");
        Ok(())
    }
}
