//! Delivery of messages to users (invitations with temporary passwords, codes). The default
//! outbox appends one JSON line per message to a file in the data directory and logs the
//! codes of sign-up and recovery (not MFA codes), so a developer on a laptop can read them;
//! with SMTP configured, email goes out through [`smtp::SmtpOutbox`] instead, and with an
//! SMS webhook configured, text messages go to [`webhook::SmsWebhook`]. Temporary passwords
//! are never logged.

pub mod smtp;
pub mod webhook;

use serde::Serialize;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use janus_types::{Error, Result};

/// One message to a user.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    /// The pool.
    pub pool: String,
    /// The user name.
    pub username: String,
    /// `EMAIL` or `SMS`.
    pub medium: String,
    /// The address or number, when the user has one.
    pub destination: Option<String>,
    /// What kind of message (`invitation`, `code`, `mfa`, ...).
    pub kind: String,
    /// The email subject, when the sender chose one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The text, which may hold a secret.
    pub body: String,
    /// The pool's sender address for email (`EmailConfiguration.From`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The pool's reply-to address for email (`EmailConfiguration.ReplyToEmailAddress`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// A message sender.
pub trait Outbox: Send + Sync + 'static {
    /// Deliver `msg`.
    fn send(&self, msg: &Message) -> Result<()>;
}

/// Appends messages as JSON lines to a file.
pub struct FileOutbox {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileOutbox {
    /// An outbox writing to `path`.
    /// A file an older version left readable by others is made private (0600).
    pub fn new(path: PathBuf) -> Self {
        #[cfg(unix)]
        if path.exists() {
            let private = std::os::unix::fs::PermissionsExt::from_mode(0o600);
            if let Err(e) = std::fs::set_permissions(&path, private) {
                tracing::warn!(outbox = %path.display(), error = %e, "could not make the outbox private");
            }
        }
        Self { path, lock: Mutex::new(()) }
    }
}

impl Outbox for FileOutbox {
    fn send(&self, msg: &Message) -> Result<()> {
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let line = serde_json::to_string(msg).map_err(Error::internal)?;
        // Only its owner may read it: it holds codes and temporary passwords in the clear.
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&self.path).map_err(Error::internal)?;
        writeln!(f, "{line}").map_err(Error::internal)?;
        // The log never carries the code or password itself (logs travel further than files).
        tracing::info!(pool = %msg.pool, user = %msg.username, kind = %msg.kind, outbox = %self.path.display(),
            "message written to the development outbox (configure [smtp] to send email)");
        Ok(())
    }
}
