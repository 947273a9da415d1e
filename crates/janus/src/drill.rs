//! `janus drill`: a game day against a live two-region deployment, step by step, with a
//! report (text, or `--json`) and an exit code that says pass or fail against the
//! thresholds given. It checks readiness, writes marker users in the primary, signs one in
//! through the front door, takes the primary down (the out-of-service flag, or `kill -9` of
//! a process it is told about), measures the time until sign-in works again through the
//! front door (RTO), waits for the promotion (the watcher's, or its own with `--promote`),
//! counts acknowledged markers missing in the new primary (RPO), and checks that tokens from
//! before the outage still work and refresh, that SRP, TOTP and hosted (OAuth code + PKCE)
//! sign-ins and sign-up work — a hosted login begun before the outage completes after it —
//! and optionally fails back. docs/failover.md describes a run.

use serde::Serialize;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::client::{credentials, Client, Refused};
use crate::hosted_client::{Code, Hosted};

/// `janus drill` options.
#[derive(clap::Args, Debug)]
pub struct DrillArgs {
    /// The pool to drill.
    #[arg(long)]
    pool: String,
    /// An app client of the pool allowing USER_PASSWORD_AUTH, USER_SRP_AUTH and refresh.
    #[arg(long)]
    client_id: String,
    /// An app client with the authorization code flow, for the hosted sign-in step (its first
    /// callback URL is used); without it that step is skipped.
    #[arg(long)]
    hosted_client_id: Option<String>,
    /// The primary region's URL.
    #[arg(long)]
    primary: String,
    /// The secondary region's URL.
    #[arg(long)]
    secondary: String,
    /// The front door end users reach (e.g. HAProxy); default: the primary, then the secondary.
    #[arg(long)]
    front_door: Option<String>,
    /// How to take the primary down: `flag` (JanusAdmin.SetAvailability) or `kill` (--primary-pid).
    #[arg(long, default_value = "flag")]
    outage: String,
    /// The primary's process id, for `--outage kill`.
    #[arg(long)]
    primary_pid: Option<u32>,
    /// Promote the secondary from the drill instead of waiting for automatic failover.
    #[arg(long)]
    promote: bool,
    /// Marker users written before the outage.
    #[arg(long, default_value_t = 20)]
    markers: usize,
    /// Fail when the RTO (seconds) is above this.
    #[arg(long, default_value_t = 15.0)]
    max_rto_secs: f64,
    /// Fail when more acknowledged markers than this are missing after failover.
    #[arg(long, default_value_t = 0)]
    max_rpo: usize,
    /// After the checks, put the former primary back and promote it again (flag outage only).
    #[arg(long)]
    failback: bool,
    /// Give up waiting for any step after this many seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Where to find admin-credentials.json when JANUS_ADMIN_* are unset.
    #[arg(long, default_value = "./janus-data")]
    data_dir: PathBuf,
}

/// One step of the report.
#[derive(Debug, Serialize)]
struct Step {
    step: &'static str,
    result: &'static str,
    seconds: f64,
    detail: String,
}

#[derive(Debug, Serialize)]
struct Report {
    passed: bool,
    rto_seconds: Option<f64>,
    rpo_missing: Option<usize>,
    steps: Vec<Step>,
}

struct Drill {
    a: DrillArgs,
    primary: Client,
    secondary: Client,
    front: Client,
    steps: Vec<Step>,
    password: String,
}

const PASSWORD_SUFFIX: &str = "-Drill-1aA!";

/// A fresh PKCE verifier (43 characters of the unreserved alphabet).
fn verifier() -> String {
    janus_crypto::random::string_from(
        &janus_crypto::random::OsRandom,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
        43,
    )
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Run a drill; `Ok(true)` when every step passed.
pub fn run(a: DrillArgs) -> anyhow::Result<bool> {
    let creds = credentials(&a.data_dir)?;
    let t = Duration::from_secs(10);
    let primary = Client::new(&a.primary, Some(creds.clone()), t);
    let secondary = Client::new(&a.secondary, Some(creds), t);
    let front = Client::new(a.front_door.as_deref().unwrap_or(&a.primary), None, t);
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis();
    let password = format!("{stamp}{PASSWORD_SUFFIX}");
    let mut d = Drill { a, primary, secondary, front, steps: Vec::new(), password };
    let report = d.go(stamp);
    if d.a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for s in &report.steps {
            println!("{:<5} {:<22} {:>7.2} s  {}", s.result, s.step, s.seconds, s.detail);
        }
        let rto = report.rto_seconds.map_or("-".into(), |r| format!("{r:.2} s"));
        let rpo = report.rpo_missing.map_or("-".into(), |r| r.to_string());
        println!("{}: RTO {rto}, RPO {rpo} missing", if report.passed { "PASSED" } else { "FAILED" });
    }
    Ok(report.passed)
}

impl Drill {
    fn go(&mut self, stamp: u128) -> Report {
        let mut rto = None;
        let mut rpo = None;
        let outcome = (|| -> Result<(), String> {
            self.readiness()?;
            let markers = self.markers(stamp)?;
            let tokens = self.first_sign_in(&markers[0])?;
            let totp = self.enrol_totp(markers.last().filter(|_| markers.len() > 1));
            let hosted = self.hosted_begin(&markers[0]);
            let down = self.outage()?;
            let measured = self.rto(down, &markers[0])?;
            rto = Some(measured);
            self.promotion(down)?;
            rpo = Some(self.rpo(&markers)?);
            self.old_tokens(&tokens)?;
            self.srp(&markers[0])?;
            self.sign_up(stamp)?;
            self.totp(totp);
            self.hosted(hosted, &markers[0]);
            if self.a.failback {
                self.failback()?;
            }
            Ok(())
        })();
        if let Err(e) = outcome {
            self.steps.push(Step { step: "aborted", result: "FAIL", seconds: 0.0, detail: e });
        }
        let passed = self.steps.iter().all(|s| s.result != "FAIL");
        Report { passed, rto_seconds: rto, rpo_missing: rpo, steps: std::mem::take(&mut self.steps) }
    }

    fn record(&mut self, step: &'static str, ok: bool, started: Instant, detail: String) {
        let result = if ok { "PASS" } else { "FAIL" };
        self.steps.push(Step { step, result, seconds: started.elapsed().as_secs_f64(), detail });
    }

    fn deadline(&self) -> Instant {
        Instant::now() + Duration::from_secs(self.a.timeout_secs)
    }

    fn readiness(&mut self) -> Result<(), String> {
        let t = Instant::now();
        let pool = &self.a.pool;
        let (p, pv) = self.primary.get(&format!("/ready?pool={pool}&role=primary"));
        let (s, sv) = self.secondary.get(&format!("/ready?pool={pool}"));
        let ok = p == 200 && s == 200;
        let why = |v: &Value| v["Pools"][0]["Reason"].as_str().unwrap_or("unreachable").to_owned();
        let detail = if ok {
            "primary is primary; secondary's replica is ACTIVE".into()
        } else {
            format!("primary: HTTP {p} ({}); secondary: HTTP {s} ({})", why(&pv), why(&sv))
        };
        self.record("readiness", ok, t, detail.clone());
        ok.then_some(()).ok_or(detail)
    }

    fn markers(&mut self, stamp: u128) -> Result<Vec<String>, String> {
        let t = Instant::now();
        let mut acknowledged = Vec::new();
        for i in 0..self.a.markers.max(1) {
            let name = format!("drill-{stamp}-{i}");
            let created = self.primary.admin(
                "AdminCreateUser",
                &json!({"UserPoolId": self.a.pool, "Username": name, "MessageAction": "SUPPRESS"}),
            );
            let set = created.and_then(|_| {
                self.primary.admin(
                    "AdminSetUserPassword",
                    &json!({"UserPoolId": self.a.pool, "Username": name, "Password": self.password, "Permanent": true}),
                )
            });
            match set {
                Ok(_) => acknowledged.push(name),
                Err(e) => {
                    let detail = format!("marker {name}: {e}");
                    self.record("write markers", false, t, detail.clone());
                    return Err(detail);
                }
            }
        }
        self.record("write markers", true, t, format!("{} users acknowledged by the primary", acknowledged.len()));
        Ok(acknowledged)
    }

    fn password_sign_in(&self, c: &Client, user: &str) -> Result<Value, Refused> {
        let input = json!({"ClientId": self.a.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": user, "PASSWORD": self.password}});
        c.public("InitiateAuth", &input).map(|v| v["AuthenticationResult"].clone())
    }

    fn first_sign_in(&mut self, user: &str) -> Result<Value, String> {
        let t = Instant::now();
        let r = self.password_sign_in(&self.front, user).map_err(|e| e.to_string());
        self.record("sign-in before", r.is_ok(), t, r.as_ref().map_or_else(Clone::clone, |_| "tokens issued".into()));
        r
    }

    fn outage(&mut self) -> Result<Instant, String> {
        let t = Instant::now();
        let r = match (self.a.outage.as_str(), self.a.primary_pid) {
            ("flag", _) => self
                .primary
                .admin("JanusAdmin.SetAvailability", &json!({"Available": false}))
                .map(|_| "the primary is out of service (JanusAdmin.SetAvailability)".to_owned())
                .map_err(|e| e.to_string()),
            ("kill", Some(pid)) => std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status()
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    s.success().then(|| format!("kill -9 {pid}")).ok_or_else(|| format!("kill -9 {pid} failed"))
                }),
            ("kill", None) => Err("--outage kill needs --primary-pid".into()),
            (other, _) => Err(format!("--outage must be flag or kill, not {other}")),
        };
        self.record("take primary down", r.is_ok(), t, r.clone().unwrap_or_else(|e| e));
        r.map(|_| t)
    }

    fn after_outage(&self) -> &Client {
        if self.a.front_door.is_some() {
            &self.front
        } else {
            &self.secondary
        }
    }

    fn rto(&mut self, down: Instant, user: &str) -> Result<f64, String> {
        let deadline = self.deadline();
        let mut tries = 0;
        let mut last;
        loop {
            tries += 1;
            match self.password_sign_in(self.after_outage(), user) {
                Ok(_) => break,
                Err(e) => last = e.to_string(),
            }
            if Instant::now() > deadline {
                let detail =
                    format!("no sign-in succeeded within {} s ({tries} tries; last: {last})", self.a.timeout_secs);
                self.record("RTO", false, down, detail.clone());
                return Err(detail);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let rto = down.elapsed().as_secs_f64();
        let ok = rto <= self.a.max_rto_secs;
        self.record(
            "RTO",
            ok,
            down,
            format!("first successful sign-in after {rto:.2} s ({tries} tries; limit {} s)", self.a.max_rto_secs),
        );
        Ok(rto)
    }

    fn promotion(&mut self, down: Instant) -> Result<(), String> {
        let t = Instant::now();
        let pool = self.a.pool.clone();
        if self.a.promote {
            if let Err(e) = self.secondary.admin("JanusAdmin.PromoteUserPool", &json!({"UserPoolId": pool})) {
                self.record("promotion", false, t, e.to_string());
                return Err(e.to_string());
            }
        }
        let deadline = self.deadline();
        while self.secondary.get(&format!("/ready?pool={pool}&role=primary")).0 != 200 {
            if Instant::now() > deadline {
                let detail = "the secondary never became primary".to_owned();
                self.record("promotion", false, t, detail.clone());
                return Err(detail);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let how = if self.a.promote { "promoted by the drill" } else { "promoted automatically" };
        self.record("promotion", true, t, format!("{how}, {:.2} s after the outage", down.elapsed().as_secs_f64()));
        Ok(())
    }

    fn rpo(&mut self, markers: &[String]) -> Result<usize, String> {
        let t = Instant::now();
        let mut missing = Vec::new();
        for m in markers {
            match self.secondary.admin("AdminGetUser", &json!({"UserPoolId": self.a.pool, "Username": m})) {
                Ok(_) => {}
                Err(e) if e.code == "UserNotFoundException" => missing.push(m.clone()),
                Err(e) => return Err(format!("reading {m} in the new primary: {e}")),
            }
        }
        let ok = missing.len() <= self.a.max_rpo;
        let detail = format!(
            "{} of {} acknowledged markers missing (limit {}){}",
            missing.len(),
            markers.len(),
            self.a.max_rpo,
            if missing.is_empty() { String::new() } else { format!(": {}", missing.join(", ")) }
        );
        self.record("RPO", ok, t, detail);
        Ok(missing.len())
    }

    fn old_tokens(&mut self, tokens: &Value) -> Result<(), String> {
        let t = Instant::now();
        let c = self.after_outage().clone();
        let access = tokens["AccessToken"].as_str().unwrap_or_default();
        let me = c.public("GetUser", &json!({"AccessToken": access}));
        let refresh = tokens["RefreshToken"].as_str().unwrap_or_default();
        let refreshed = c.public(
            "InitiateAuth",
            &json!({"ClientId": self.a.client_id, "AuthFlow": "REFRESH_TOKEN_AUTH",
                "AuthParameters": {"REFRESH_TOKEN": refresh}}),
        );
        let ok = me.is_ok() && refreshed.is_ok();
        let detail = match (&me, &refreshed) {
            (Ok(_), Ok(_)) => "the access token from before works; the refresh token refreshes".to_owned(),
            (Err(e), _) => format!("GetUser with the old access token: {e}"),
            (_, Err(e)) => format!("refresh with the old refresh token: {e}"),
        };
        self.record("tokens from before", ok, t, detail);
        Ok(())
    }

    fn srp(&mut self, user: &str) -> Result<(), String> {
        let t = Instant::now();
        let r = crate::srp_client::sign_in(self.after_outage(), &self.a.pool, &self.a.client_id, user, &self.password);
        self.record("SRP sign-in", r.is_ok(), t, r.map_or_else(|e| e, |_| "USER_SRP_AUTH answered with tokens".into()));
        Ok(())
    }

    fn sign_up(&mut self, stamp: u128) -> Result<(), String> {
        let t = Instant::now();
        let name = format!("drill-signup-{stamp}");
        let c = self.after_outage().clone();
        let r = c
            .public("SignUp", &json!({"ClientId": self.a.client_id, "Username": name, "Password": self.password}))
            .and_then(|_| {
                self.secondary.admin("AdminConfirmSignUp", &json!({"UserPoolId": self.a.pool, "Username": name}))
            })
            .and_then(|_| self.password_sign_in(&c, &name));
        self.record(
            "sign-up after",
            r.is_ok(),
            t,
            r.map_or_else(|e| e.to_string(), |_| "SignUp, confirm, sign-in".into()),
        );
        Ok(())
    }

    /// Before the outage: give the last marker a software token, when the pool offers them.
    /// `(user, secret)`, or why not.
    fn enrol_totp(&mut self, user: Option<&String>) -> Result<(String, Vec<u8>), String> {
        let user = user.ok_or("needs at least two markers")?.clone();
        let mfa = self
            .primary
            .admin("GetUserPoolMfaConfig", &json!({"UserPoolId": self.a.pool}))
            .map_err(|e| e.to_string())?;
        if mfa["SoftwareTokenMfaConfiguration"]["Enabled"] != true {
            return Err("the pool does not offer software-token MFA".into());
        }
        let tokens = self.password_sign_in(&self.primary, &user).map_err(|e| e.to_string())?;
        let access = tokens["AccessToken"].as_str().unwrap_or_default().to_owned();
        let secret = self
            .primary
            .public("AssociateSoftwareToken", &json!({"AccessToken": access}))
            .map_err(|e| e.to_string())?["SecretCode"]
            .as_str()
            .and_then(janus_crypto::totp::base32_decode)
            .ok_or("AssociateSoftwareToken gave no secret")?;
        let code = janus_crypto::totp::code_at(&secret, janus_crypto::totp::step_of(now_ms()));
        self.primary
            .public("VerifySoftwareToken", &json!({"AccessToken": access, "UserCode": code}))
            .and_then(|_| {
                self.primary.public(
                    "SetUserMFAPreference",
                    &json!({"AccessToken": access,
                    "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
                )
            })
            .map_err(|e| e.to_string())?;
        Ok((user, secret))
    }

    /// After the failover: the TOTP user signs in through the front door with a fresh code.
    fn totp(&mut self, enrolled: Result<(String, Vec<u8>), String>) {
        let t = Instant::now();
        let (user, secret) = match enrolled {
            Ok(e) => e,
            Err(why) => {
                self.steps.push(Step { step: "TOTP sign-in", result: "SKIP", seconds: 0.0, detail: why });
                return;
            }
        };
        let c = self.after_outage().clone();
        let input = json!({"ClientId": self.a.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": user, "PASSWORD": self.password}});
        let r = c.public("InitiateAuth", &input).map_err(|e| e.to_string()).and_then(|challenge| {
            if challenge["ChallengeName"] != "SOFTWARE_TOKEN_MFA" {
                return Err(format!("expected SOFTWARE_TOKEN_MFA, got {}", challenge["ChallengeName"]));
            }
            // The next step's code: the current one was spent enrolling (each code works once).
            let code = janus_crypto::totp::code_at(&secret, janus_crypto::totp::step_of(now_ms()) + 1);
            let answer = json!({"ClientId": self.a.client_id, "ChallengeName": "SOFTWARE_TOKEN_MFA",
                "Session": challenge["Session"],
                "ChallengeResponses": {"USERNAME": user, "SOFTWARE_TOKEN_MFA_CODE": code}});
            c.public("RespondToAuthChallenge", &answer).map_err(|e| e.to_string())
        });
        self.record(
            "TOTP sign-in",
            r.is_ok(),
            t,
            r.map_or_else(|e| e, |_| "password, then SOFTWARE_TOKEN_MFA, answered with tokens".into()),
        );
    }

    /// Before the outage: a hosted sign-in through the front door, up to the authorization
    /// code (redeemed after the failover, as a login that straddles it would be).
    fn hosted_begin(&mut self, user: &str) -> Result<(Hosted, Code), String> {
        let id = self.a.hosted_client_id.clone().ok_or("no --hosted-client-id")?;
        let c = self
            .primary
            .admin("DescribeUserPoolClient", &json!({"UserPoolId": self.a.pool, "ClientId": id}))
            .map_err(|e| e.to_string())?;
        let c = &c["UserPoolClient"];
        if !c["AllowedOAuthFlows"].as_array().is_some_and(|f| f.iter().any(|f| f == "code")) {
            return Err(format!("app client {id} does not allow the authorization code flow"));
        }
        let redirect = c["CallbackURLs"][0].as_str().ok_or(format!("app client {id} has no callback URL"))?;
        let front = self.a.front_door.as_deref().unwrap_or(&self.a.primary);
        let hosted = Hosted::new(front, &self.a.pool, &id, redirect, Duration::from_secs(10));
        let code = hosted.sign_in(user, &self.password, verifier()).map_err(|e| format!("before the outage: {e}"))?;
        Ok((hosted, code))
    }

    /// After the failover: redeem the code issued before it, then a whole hosted sign-in,
    /// both through the front door.
    fn hosted(&mut self, begun: Result<(Hosted, Code), String>, user: &str) {
        let t = Instant::now();
        let (hosted, before) = match begun {
            Ok(b) => b,
            Err(why) if self.a.hosted_client_id.is_none() => {
                self.steps.push(Step { step: "hosted sign-in", result: "SKIP", seconds: 0.0, detail: why });
                return;
            }
            Err(why) => return self.record("hosted sign-in", false, t, why),
        };
        // A front door that is the old primary's address sends this to the secondary instead.
        let hosted = if self.a.front_door.is_some() { hosted } else { hosted.at(&self.a.secondary, &self.a.pool) };
        let r = hosted
            .redeem(&before)
            .map_err(|e| format!("code from before the outage: {e}"))
            .and_then(|_| hosted.sign_in(user, &self.password, verifier()).map_err(|e| format!("after: {e}")))
            .and_then(|code| hosted.redeem(&code).map_err(|e| format!("after: {e}")));
        let detail = "code from before the outage redeemed; a new hosted sign-in and code grant work";
        self.record("hosted sign-in", r.is_ok(), t, r.map_or_else(|e| e, |_| detail.into()));
    }

    fn failback(&mut self) -> Result<(), String> {
        let t = Instant::now();
        if self.a.outage != "flag" {
            self.record(
                "failback",
                false,
                t,
                "failback needs --outage flag (a killed process must be restarted)".into(),
            );
            return Ok(());
        }
        let pool = self.a.pool.clone();
        let r = (|| -> Result<(), String> {
            self.primary.admin("JanusAdmin.SetAvailability", &json!({"Available": true})).map_err(|e| e.to_string())?;
            let deadline = self.deadline();
            // The former primary fences itself and copies the pool back; then it is a replica
            // like any other: activate it, and promote it.
            loop {
                let listed = self.secondary.admin("ListUserPoolReplicas", &json!({"UserPoolId": pool}));
                let inactive = listed.as_ref().is_ok_and(|v| {
                    v["UserPoolReplicas"]
                        .as_array()
                        .is_some_and(|rows| rows.iter().any(|r| r["Role"] == "SECONDARY" && r["Status"] == "INACTIVE"))
                });
                if inactive {
                    break;
                }
                if Instant::now() > deadline {
                    return Err("the former primary did not re-sync as a replica".into());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            let region = self.primary.admin("JanusAdmin.DescribeReadiness", &json!({})).map_err(|e| e.to_string())?
                ["Region"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            self.secondary
                .admin("UpdateUserPoolReplica", &json!({"UserPoolId": pool, "RegionName": region, "Status": "ACTIVE"}))
                .map_err(|e| e.to_string())?;
            while self.primary.get(&format!("/ready?pool={pool}")).0 != 200 {
                if Instant::now() > deadline {
                    return Err("the former primary's replica never became ready".into());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            self.primary
                .admin("JanusAdmin.PromoteUserPool", &json!({"UserPoolId": pool}))
                .map_err(|e| e.to_string())?;
            // The other region re-syncs as a replica in turn; make it ACTIVE again, as before.
            let other = self.secondary.admin("JanusAdmin.DescribeReadiness", &json!({})).map_err(|e| e.to_string())?
                ["Region"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let replica_inactive = |c: &Client| {
                c.admin("ListUserPoolReplicas", &json!({"UserPoolId": pool})).is_ok_and(|v| {
                    v["UserPoolReplicas"].as_array().is_some_and(|rows| {
                        rows.iter().any(|r| r["RegionName"] == other.as_str() && r["Status"] == "INACTIVE")
                    })
                })
            };
            while !replica_inactive(&self.primary) {
                if Instant::now() > deadline {
                    return Err(format!("{other} did not re-sync as a replica after the failback"));
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            self.primary
                .admin("UpdateUserPoolReplica", &json!({"UserPoolId": pool, "RegionName": other, "Status": "ACTIVE"}))
                .map_err(|e| e.to_string())?;
            while self.secondary.get(&format!("/ready?pool={pool}")).0 != 200 {
                if Instant::now() > deadline {
                    return Err(format!("{other}'s replica never became ready again"));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(())
        })();
        self.record(
            "failback",
            r.is_ok(),
            t,
            r.map_or_else(
                |e| e,
                |_| "the former primary is primary again; the other region's replica is ACTIVE".into(),
            ),
        );
        Ok(())
    }
}
