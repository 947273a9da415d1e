//! USER_SRP_AUTH → PASSWORD_VERIFIER, per ../shared/reference/cognito-srp.md. The handshake
//! state (b, B, A, user, expiry) is sealed into SECRET_BLOCK, because pycognito never sends
//! the Session back. An unknown user (or one without a password) gets a decoy challenge that
//! looks like a real one and fails at the verifier step, so SRP does not reveal who exists.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::collections::BTreeMap;

use janus_crypto::srp::Verifier;
use janus_types::{Error, Result, User};

use super::sealed::{self, SrpState};
use super::{client, lockout, param, password, Ctx, Outcome};
use crate::users;
use crate::Services;

const HANDSHAKE_MS: i64 = 5 * 60 * 1000;

fn verifier_of(user: &User) -> Option<Verifier> {
    let c = user.password.as_ref()?;
    Some(Verifier { salt: c.srp_salt.clone()?, verifier: c.srp_verifier.clone()? })
}

impl Services {
    /// A verifier for a user who has none (or does not exist). Its salt is derived from the
    /// name under a pool key, so repeated attempts see the same salt as for a real user; its
    /// `v` is random, so it never matches.
    fn decoy_verifier(&self, ctx: &Ctx, username: &str) -> Result<Verifier> {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&ctx.keys.sealer()?.key).map_err(Error::internal)?;
        mac.update(b"srp-decoy-salt\0");
        mac.update(username.as_bytes());
        let salt = &mac.finalize().into_bytes()[..16];
        let mut pw = [0u8; 16];
        self.rng.fill(&mut pw);
        let v = self.srp.verifier(ctx.pool.id.suffix(), username, &hex_of(&pw), &*self.rng)?;
        let salt = salt.iter().skip_while(|b| **b == 0).map(|b| format!("{b:02x}")).collect::<String>();
        Ok(Verifier { salt: salt.trim_start_matches('0').to_owned(), verifier: v.verifier })
    }

    /// InitiateAuth with USER_SRP_AUTH: answer PASSWORD_VERIFIER.
    pub fn srp_start(&self, ctx: &Ctx, username: &str, a_hex: &str) -> Result<Outcome> {
        self.srp_begin(ctx, username, a_hex, false)
    }

    /// The PASSWORD_VERIFIER challenge; `custom`: of a CUSTOM_AUTH sign-in, which goes back to
    /// DefineAuthChallenge once the password is proven.
    pub(crate) fn srp_begin(&self, ctx: &Ctx, username: &str, a_hex: &str, custom: bool) -> Result<Outcome> {
        self.srp.check_a(a_hex)?;
        let user = users::find(&*self.store.read()?, &ctx.pool, username)?;
        let hide = password::prevents_existence_errors(ctx);
        if (user.is_some() || hide) && !custom {
            self.pre_authentication(ctx, username, user.as_ref())?; // a custom sign-in ran it already
        }
        match &user {
            // Hiding existence, a disabled or locked user's state shows only at the proof.
            Some(_) if hide => {}
            Some(u) => {
                if !u.enabled {
                    return Err(Error::NotAuthorizedException("User is disabled.".into()));
                }
                lockout::check(u, self.now_ms())?;
            }
            None if hide => {}
            None => return Err(password::unknown_user(ctx)),
        }
        let real = user.as_ref().and_then(verifier_of);
        let v = match &real {
            Some(v) => v.clone(),
            None => self.decoy_verifier(ctx, username)?,
        };
        let eph = self.srp.start(&v, &*self.rng)?;
        let user_id = user.as_ref().map_or(username.to_owned(), |u| u.username.clone());
        let state = SrpState {
            v: 1,
            pool: ctx.pool.id.clone(),
            client: ctx.client.id.clone(),
            user: user.as_ref().filter(|_| real.is_some()).map(|u| u.key.clone()),
            username: user_id.clone(),
            a: a_hex.to_owned(),
            b: eph.b,
            big_b: eph.big_b.clone(),
            exp_ms: self.now_ms() + HANDSHAKE_MS,
            custom,
            device: match &ctx.device {
                super::DeviceStep::Presented(k) => Some(k.clone()),
                _ => None,
            },
        };
        let block = sealed::seal_srp(&ctx.keys, &state, &*self.rng)?;
        let parameters = BTreeMap::from([
            ("SALT".to_owned(), v.salt),
            ("SECRET_BLOCK".to_owned(), block.clone()),
            ("SRP_B".to_owned(), eph.big_b),
            ("USERNAME".to_owned(), user_id.clone()),
            ("USER_ID_FOR_SRP".to_owned(), user_id),
        ]);
        let session = sealed::seal_srp(&ctx.keys, &state, &*self.rng)?;
        Ok(Outcome::Challenge { name: "PASSWORD_VERIFIER".into(), session: Some(session), parameters })
    }

    /// RespondToAuthChallenge with PASSWORD_VERIFIER: check the client's proof.
    pub fn srp_finish(&self, ctx: &Ctx, r: &BTreeMap<String, String>) -> Result<Outcome> {
        let block = param(r, "PASSWORD_CLAIM_SECRET_BLOCK")?;
        let timestamp = param(r, "TIMESTAMP")?;
        let claim = B64.decode(param(r, "PASSWORD_CLAIM_SIGNATURE")?).map_err(|_| Error::bad_credentials())?;
        let (state, raw) = sealed::open_srp(&ctx.keys, block)
            .filter(|(s, _)| s.pool == ctx.pool.id && s.client == ctx.client.id)
            .ok_or_else(|| Error::NotAuthorizedException("Invalid session for the user.".into()))?;
        if state.exp_ms < self.now_ms() {
            return Err(Error::NotAuthorizedException("Invalid session for the user, session is expired.".into()));
        }
        let username = r.get("USERNAME").map_or(state.username.as_str(), String::as_str);
        client::check_secret_hash(&ctx.client, &[username, &state.username], r.get("SECRET_HASH"))?;
        let Some(key) = &state.user else { return Err(Error::bad_credentials()) };
        let user = self.store.read()?.user(&ctx.pool.id, key)?.ok_or_else(Error::bad_credentials)?;
        let hide = password::prevents_existence_errors(ctx);
        if !user.enabled && !hide {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        if let Err(locked) = lockout::check(&user, self.now_ms()) {
            return Err(if hide { Error::bad_credentials() } else { locked });
        }
        let v = verifier_of(&user).ok_or_else(Error::bad_credentials)?;
        let eph = janus_crypto::srp::ServerEphemeral { b: state.b.clone(), big_b: state.big_b.clone() };
        let pool_name = ctx.pool.id.suffix();
        let ok = self.srp.verify_claim(&v, &eph, &state.a, pool_name, &user.username, &raw, timestamp, &claim)?;
        if !ok {
            if user.enabled {
                self.record_failure(&ctx.pool.id, &user)?;
            }
            return Err(Error::bad_credentials());
        }
        if !user.enabled {
            return Err(Error::NotAuthorizedException("User is disabled.".into()));
        }
        self.check_temporary_expiry(ctx, &user)?;
        if state.custom {
            return self.custom_after_password(ctx, &user);
        }
        if let (super::DeviceStep::None, Some(k)) = (&ctx.device, &state.device) {
            let mut ctx = ctx.clone();
            ctx.device = super::DeviceStep::Presented(k.clone());
            return self.after_authentication(&ctx, &user);
        }
        self.after_authentication(ctx, &user)
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
