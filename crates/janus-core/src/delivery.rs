//! Delivering a message to a user — a code, an invitation, a sign-in code: to the pool's
//! custom sender for its medium when this region configures one (`triggers::senders`),
//! else as CustomMessage writes it (or the pool's template) through the outbox.

use janus_types::{Pool, Result, User};

use crate::messages::Text;
use crate::outbox::Message;
use crate::triggers::messages::Outgoing;
use crate::triggers::senders::{Caller, Sealed};
use crate::Services;

/// One message to deliver.
pub struct Letter<'a> {
    /// CustomMessage's `triggerSource` for it (`CustomMessage_SignUp`, …).
    pub source: &'static str,
    /// `EMAIL` or `SMS`.
    pub medium: &'a str,
    /// The attribute that holds the destination (`email`, `phone_number`).
    pub attribute: &'a str,
    /// The outbox's name for it (`code`, `invitation`, `mfa`).
    pub kind: &'a str,
    /// The code or temporary password it carries.
    pub code: &'a str,
    /// The text the pool's templates give.
    pub default: Text,
    /// The request's app client and `ClientMetadata`.
    pub caller: Caller<'a>,
    /// Already sealed for the sender (before a write committed), if it was.
    pub sealed: Option<Sealed>,
}

impl Services {
    /// Deliver `l` to `user`.
    pub fn deliver(&self, pool: &Pool, user: &User, l: Letter<'_>) -> Result<()> {
        let sealed = match l.sealed {
            Some(s) => Some(s),
            None => self.seal_for_sender(pool, user, (l.source, l.medium), l.code, l.caller)?,
        };
        if let Some(sealed) = sealed {
            return self.hand_over(sealed);
        }
        let outgoing =
            Outgoing { source: l.source, medium: l.medium, code: l.code, default: l.default, caller: l.caller };
        let text = self.custom_message(pool, user, outgoing)?;
        let (from, reply_to) = crate::messages::sender(pool, &self.region);
        self.outbox.send(&Message {
            pool: pool.id.to_string(),
            username: user.username.clone(),
            medium: l.medium.into(),
            destination: user.attributes.get(l.attribute).cloned(),
            kind: l.kind.into(),
            subject: text.subject,
            body: text.body,
            from,
            reply_to,
        })
    }
}
