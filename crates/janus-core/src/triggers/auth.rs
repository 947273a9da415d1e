//! PreAuthentication and PostAuthentication. PreAuthentication runs when a sign-in starts,
//! before the password or SRP proof is checked (`PreAuthentication_Authentication`); with
//! PreventUserExistenceErrors it runs for unknown users too, with `userNotFound: true`, so
//! the call itself does not tell them apart. Its error refuses the sign-in. PostAuthentication
//! runs once every step has passed, before tokens or an authorization code are issued
//! (`PostAuthentication_Authentication`); its error refuses the sign-in too.

use serde_json::json;

use janus_types::{Result, User};

use super::signup::event_attributes;
use super::{or_null, with_metadata, Event, Trigger};
use crate::auth::Ctx;
use crate::Services;

impl Services {
    /// Run PreAuthentication for `user` (`None`: not found, existence hidden) signing in as
    /// `username`.
    pub fn pre_authentication(&self, ctx: &Ctx, username: &str, user: Option<&User>) -> Result<()> {
        if self.trigger_function(&ctx.pool, Trigger::PreAuthentication).is_none() {
            return Ok(());
        }
        let mut request = json!({
            "userAttributes": user.map_or_else(|| json!({}), event_attributes),
            "validationData": or_null(&ctx.validation_data),
        });
        if user.is_none() {
            request["userNotFound"] = json!(true);
        }
        let event = Event {
            source: "PreAuthentication_Authentication",
            user_name: user.map_or(username, |u| u.username.as_str()),
            client_id: Some(ctx.client.id.as_str()),
            request,
            response: json!({}),
        };
        self.run_trigger(&ctx.pool, Trigger::PreAuthentication, event).map(|_| ())
    }

    /// Run PostAuthentication for `user`, who has passed every step.
    pub fn post_authentication(&self, ctx: &Ctx, user: &User) -> Result<()> {
        let event = Event {
            source: "PostAuthentication_Authentication",
            user_name: &user.username,
            client_id: Some(ctx.client.id.as_str()),
            request: with_metadata(
                json!({"userAttributes": event_attributes(user), "newDeviceUsed": false}),
                &ctx.metadata,
            ),
            response: json!({}),
        };
        self.run_trigger(&ctx.pool, Trigger::PostAuthentication, event).map(|_| ())
    }
}
