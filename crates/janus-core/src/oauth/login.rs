//! The hosted sign-in, over the same state machine as InitiateAuth/RespondToAuthChallenge:
//! [`Services::hosted_ctx`] builds a context whose successful end is
//! [`Outcome::Authenticated`] (a code follows) instead of tokens, and the pages pass any
//! challenge the machine returns back through [`Services::answer_challenge`], so new
//! challenges (MFA) need only a form. CSRF: the browser holds a random value in a cookie;
//! every form carries it sealed with the pool's key and an expiry (a sealed double-submit
//! token), and a post is accepted only when the two agree.

use serde::{Deserialize, Serialize};

use janus_crypto::random;
use janus_types::{ClientId, Pool, Result};

use crate::auth::sealed;
use crate::auth::Ctx;
use crate::keys::LoadedKeys;
use crate::Services;

/// How long a rendered form stays usable.
const FORM_TTL_MS: i64 = 60 * 60 * 1000;

#[derive(Serialize, Deserialize)]
struct CsrfClaims {
    v: u8,
    value: String,
    exp_ms: i64,
}

impl Services {
    /// The sign-in context of the hosted pages for `client` of `pool`.
    pub fn hosted_ctx(&self, pool: &Pool, client: &ClientId) -> Result<Ctx> {
        let mut ctx = self.auth_ctx_in(pool, client)?;
        ctx.hosted = true;
        Ok(ctx)
    }

    /// A fresh random value for the CSRF cookie.
    pub fn csrf_cookie_value(&self) -> String {
        random::string_from(&*self.rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 32)
    }

    /// The form token that goes with the cookie value `cookie`.
    pub fn csrf_form_token(&self, keys: &LoadedKeys, cookie: &str) -> Result<String> {
        let claims = CsrfClaims { v: 1, value: cookie.to_owned(), exp_ms: self.now_ms() + FORM_TTL_MS };
        sealed::seal_url(keys, "csrf", &claims, &*self.rng)
    }

    /// True when the form token was made for this cookie value, by this pool, recently.
    pub fn csrf_ok(&self, keys: &LoadedKeys, cookie: Option<&str>, token: Option<&str>) -> bool {
        let (Some(cookie), Some(token)) = (cookie, token) else { return false };
        let Some(c) = sealed::open_url::<CsrfClaims>(keys, "csrf", token) else { return false };
        c.exp_ms >= self.now_ms() && super::client::same_secret(&c.value, cookie)
    }
}
