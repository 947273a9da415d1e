//! Calling a trigger's function: the [`Invoker`] seam, and [`LambdaInvoker`], which speaks the
//! AWS Lambda Invoke API (`POST /2015-03-31/functions/<name>/invocations`; synchronous, or
//! invocation type `Event` for the custom senders, which Cognito calls asynchronously). The
//! same handlers therefore run on AWS Lambda (SigV4, the region taken from the function's
//! ARN) or on anything that speaks that API — serverless-offline, the runtime interface
//! emulator, a local container — set per region, and optionally per function.
//!
//! Each attempt has its own deadline (Cognito's is 5 s); a call that timed out, could not
//! connect or was throttled (429) is tried again, up to `attempts` in all (Cognito: three).
//! As in Cognito, an Invoke error with a 5xx status (the function could not be launched) is
//! not retried, nor is a function that ran and raised.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use janus_crypto::keys::aws_credentials::{CredentialSource, Fixed};
use janus_crypto::keys::sigv4::Signed;
use janus_types::Clock;

/// The largest answer read (Lambda's own synchronous response limit).
const MAX_ANSWER: u64 = 6 * 1024 * 1024;

/// Calls in flight at once from this process; past it a call fails at once (a slow function
/// must not take every blocking thread of the region).
pub const MAX_IN_FLIGHT: usize = 32;

/// The cause Cognito names when a function did not answer in time.
pub const TIMED_OUT: &str = "Socket timeout while invoking Lambda function";

/// Why a call produced no answer to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The function ran and raised: its `errorMessage`.
    Function(String),
    /// The function could not be called: the cause, as Cognito names it in its message
    /// (`ResourceNotFoundException`, `TimeoutException`, `AccessDeniedException`, …).
    Call(String),
    /// Its answer was too large to read.
    Unreadable,
}

/// Invokes functions.
pub trait Invoker: Send + Sync {
    /// Call `function` with the JSON `payload` and wait: its JSON answer.
    fn invoke(&self, function: &FunctionArn, payload: &[u8]) -> Result<Vec<u8>, Failure>;
    /// Queue a call of `function` with `payload` (invocation type `Event`): Ok once the
    /// Invoke API has accepted it; what the function does later is not reported.
    fn invoke_event(&self, function: &FunctionArn, payload: &[u8]) -> Result<(), Failure>;
}

/// A Lambda function's ARN: `arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionArn {
    /// The ARN as configured.
    pub arn: String,
    /// The region the function lives in.
    pub region: String,
    /// The function's name.
    pub name: String,
    /// Version or alias, when the ARN names one.
    pub qualifier: Option<String>,
}

impl FunctionArn {
    /// Parse an ARN; `None` when it is not a Lambda function's.
    pub fn parse(arn: &str) -> Option<Self> {
        let mut p = arn.split(':');
        let (scheme, partition, service) = (p.next()?, p.next()?, p.next()?);
        let (region, account, kind, name) = (p.next()?, p.next()?, p.next()?, p.next()?);
        let qualifier = p.next().map(str::to_owned);
        let valid = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let ok = scheme == "arn"
            && partition.starts_with("aws")
            && service == "lambda"
            && valid(region)
            && account.bytes().all(|b| b.is_ascii_digit())
            && kind == "function"
            && valid(name)
            && qualifier.as_deref().is_none_or(|q| valid(q) || q == "$LATEST")
            && p.next().is_none();
        ok.then(|| Self { arn: arn.to_owned(), region: region.to_owned(), name: name.to_owned(), qualifier })
    }
}

/// Where and how functions are called (`[triggers]` in the configuration).
#[derive(Clone)]
pub struct LambdaSettings {
    /// The Invoke API's base URL for every function (none: AWS Lambda in the function's
    /// region, `https://lambda.<region>.amazonaws.com`).
    pub endpoint: Option<String>,
    /// Base URLs for single functions, by function name (over `endpoint`).
    pub functions: BTreeMap<String, String>,
    /// Where the credentials requests are signed with come from (none given: sent unsigned,
    /// for local hosts).
    pub credentials: Arc<dyn CredentialSource>,
    /// Deadline of one attempt.
    pub timeout: Duration,
    /// Attempts in all for a call that can be retried.
    pub attempts: u32,
    /// Where custom senders' codes get their data keys: KMS's base URL for every region
    /// (none: AWS KMS in the key's region, `https://kms.<region>.amazonaws.com`).
    pub kms_endpoint: Option<String>,
}

impl Default for LambdaSettings {
    fn default() -> Self {
        Self {
            endpoint: None,
            functions: BTreeMap::new(),
            credentials: Arc::new(Fixed(None)),
            timeout: Duration::from_secs(5),
            attempts: 3,
            kms_endpoint: None,
        }
    }
}

impl std::fmt::Debug for LambdaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LambdaSettings")
            .field("endpoint", &self.endpoint)
            .field("functions", &self.functions)
            .field("timeout", &self.timeout)
            .field("attempts", &self.attempts)
            .field("kms_endpoint", &self.kms_endpoint)
            .finish()
    }
}

/// The Invoke API client.
pub struct LambdaInvoker {
    settings: LambdaSettings,
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
    in_flight: std::sync::atomic::AtomicUsize,
}

/// One call counted in flight while it lives.
struct Slot<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

enum Attempt {
    Done(Vec<u8>),
    Failed(Failure),
    Retry(String),
}

impl LambdaInvoker {
    /// A client for `settings`; `clock` dates the signatures.
    pub fn new(settings: LambdaSettings, clock: Arc<dyn Clock>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Self { settings, agent, clock, in_flight: Default::default() }
    }

    /// The base URL for `f`, and whether it is AWS's own (which is sent the whole ARN).
    fn base(&self, f: &FunctionArn) -> (String, bool) {
        match self.settings.functions.get(&f.name).or(self.settings.endpoint.as_ref()) {
            Some(url) => (url.trim_end_matches('/').to_owned(), false),
            None => (format!("https://lambda.{}.amazonaws.com", f.region), true),
        }
    }

    /// One try; `kind` is the invocation type (`RequestResponse` or `Event`).
    fn attempt(&self, f: &FunctionArn, payload: &[u8], kind: &str) -> Attempt {
        let (base, aws) = self.base(f);
        let name = if aws { f.arn.replace(':', "%3A") } else { f.name.clone() };
        let path = format!("/2015-03-31/functions/{name}/invocations");
        let query = match &f.qualifier {
            Some(q) if !aws => format!("Qualifier={q}"),
            _ => String::new(),
        };
        let sep = if query.is_empty() { "" } else { "?" };
        let mut req = self
            .agent
            .post(format!("{base}{path}{sep}{query}"))
            .header("content-type", "application/json")
            .header("x-amz-invocation-type", kind);
        if let Some(r) = self.settings.credentials.current() {
            // An endpoint with a path (`https://gateway/lambda`) sends and signs that path too.
            let rest = base.split_once("://").map_or(base.as_str(), |(_, h)| h);
            let (host, prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let full_path = format!("{prefix}{path}");
            let signed = Signed {
                creds: &r.creds,
                region: &f.region,
                service: "lambda",
                method: "POST",
                path: &full_path,
                query: &query,
                host,
                session_token: r.session_token.as_deref(),
            };
            let sent = [("content-type", "application/json"), ("x-amz-invocation-type", kind)];
            for (k, v) in signed.headers(&sent, payload, self.clock.now_ms()) {
                req = req.header(k, &v);
            }
        }
        let mut resp = match req.send(payload) {
            Ok(r) => r,
            Err(ureq::Error::Timeout(_)) => return Attempt::Retry(TIMED_OUT.into()),
            Err(e) => {
                // The cause stays in the log: the caller sees a fixed name, never hosts or TLS details.
                tracing::warn!(function = %f.name, error = %e, "a trigger's function could not be reached");
                return Attempt::Retry("ServiceException".into());
            }
        };
        let status = resp.status().as_u16();
        let function_error = resp.headers().get("x-amz-function-error").is_some();
        let error_type = resp
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_owned());
        // The function has run once an answer arrives: a body that cannot be read is not retried
        // (that would run its side effects again).
        let body = match resp.body_mut().with_config().limit(MAX_ANSWER).read_to_vec() {
            Ok(b) => b,
            Err(ureq::Error::Timeout(_)) => return Attempt::Failed(Failure::Call(TIMED_OUT.into())),
            Err(ureq::Error::BodyExceedsLimit(_)) => return Attempt::Failed(Failure::Unreadable),
            Err(e) => {
                tracing::warn!(function = %f.name, error = %e, "a trigger's answer could not be read");
                return Attempt::Failed(Failure::Call("ServiceException".into()));
            }
        };
        match status {
            202 if kind == "Event" => Attempt::Done(body),
            200 if function_error => Attempt::Failed(Failure::Function(error_message(&body))),
            200 => Attempt::Done(body),
            429 => Attempt::Retry(error_type.unwrap_or_else(|| "TooManyRequestsException".into())),
            500..=599 => Attempt::Failed(Failure::Call(error_type.unwrap_or_else(|| "ServiceException".into()))),
            403 => Attempt::Failed(Failure::Call(error_type.unwrap_or_else(|| "AccessDeniedException".into()))),
            404 => Attempt::Failed(Failure::Call(error_type.unwrap_or_else(|| "ResourceNotFoundException".into()))),
            other => Attempt::Failed(Failure::Call(error_type.unwrap_or_else(|| format!("HTTP {other}")))),
        }
    }
}

/// The `errorMessage` of a function's error answer (its type when it has no message).
fn error_message(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v.get("errorMessage")
        .and_then(serde_json::Value::as_str)
        .or_else(|| v.get("errorType").and_then(serde_json::Value::as_str))
        .unwrap_or("Unhandled")
        .to_owned()
}

impl LambdaInvoker {
    fn call(&self, function: &FunctionArn, payload: &[u8], kind: &str) -> Result<Vec<u8>, Failure> {
        use std::sync::atomic::Ordering;
        if self.in_flight.fetch_add(1, Ordering::Relaxed) >= MAX_IN_FLIGHT {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            return Err(Failure::Call("TooManyRequestsException".into()));
        }
        let _slot = Slot(&self.in_flight);
        let mut last = String::new();
        for _ in 0..self.settings.attempts.max(1) {
            match self.attempt(function, payload, kind) {
                Attempt::Done(body) => return Ok(body),
                Attempt::Failed(f) => return Err(f),
                Attempt::Retry(why) => last = why,
            }
        }
        Err(Failure::Call(last))
    }
}

impl Invoker for LambdaInvoker {
    fn invoke(&self, function: &FunctionArn, payload: &[u8]) -> Result<Vec<u8>, Failure> {
        self.call(function, payload, "RequestResponse")
    }

    fn invoke_event(&self, function: &FunctionArn, payload: &[u8]) -> Result<(), Failure> {
        self.call(function, payload, "Event").map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_parse_with_and_without_a_qualifier() {
        let f = FunctionArn::parse("arn:aws:lambda:eu-west-1:123456789012:function:pre-signup").unwrap();
        assert_eq!((f.region.as_str(), f.name.as_str(), f.qualifier), ("eu-west-1", "pre-signup", None));
        let q = FunctionArn::parse("arn:aws:lambda:us-east-1:1:function:f:live").unwrap();
        assert_eq!(q.qualifier.as_deref(), Some("live"));
        for bad in [
            "arn:aws:s3:::bucket",
            "arn:aws:lambda:us-east-1:1:layer:f",
            "arn:aws:lambda:us-east-1:x:function:f",
            "arn:aws:lambda:us-east-1:1:function:",
            "arn:aws:lambda:us-east-1:1:function:f:v:extra",
            "arn:aws:lambda:us-east-1:1:function:../f",
        ] {
            assert_eq!(FunctionArn::parse(bad), None, "{bad}");
        }
    }

    /// One request to a loopback "Invoke API": its request line and headers; answers `{}`.
    fn capture_one() -> (String, std::thread::JoinHandle<String>) {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let (mut head, mut len) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                head.push_str(&line.to_ascii_lowercase());
            }
            r.read_exact(&mut vec![0; len]).unwrap();
            let mut s = stream;
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").unwrap();
            head
        });
        (url, seen)
    }

    #[test]
    fn an_endpoint_with_a_path_sends_and_signs_it() {
        use janus_crypto::keys::aws_credentials::Resolved;
        use janus_crypto::keys::sigv4::Credentials;
        let (url, seen) = capture_one();
        let creds = Credentials { access_key_id: "AKID".into(), secret_access_key: "secret".into() };
        let resolved = Resolved { creds: creds.clone(), session_token: None };
        let settings = LambdaSettings {
            endpoint: Some(format!("{url}/gateway")),
            credentials: Arc::new(Fixed(Some(resolved))),
            ..Default::default()
        };
        let clock = Arc::new(janus_types::ManualClock::at(1_796_000_000_000));
        let f = FunctionArn::parse("arn:aws:lambda:us-east-1:123456789012:function:f").unwrap();
        assert_eq!(LambdaInvoker::new(settings, clock.clone()).invoke(&f, b"{}").unwrap(), b"{}");
        let head = seen.join().unwrap();
        let path = "/gateway/2015-03-31/functions/f/invocations";
        assert!(head.starts_with(&format!("post {path} http/1.1")), "{head}");
        let host = url.trim_start_matches("http://");
        let expected = Signed {
            creds: &creds,
            region: "us-east-1",
            service: "lambda",
            method: "POST",
            path,
            query: "",
            host,
            session_token: None,
        }
        .headers(
            &[("content-type", "application/json"), ("x-amz-invocation-type", "RequestResponse")],
            b"{}",
            clock.now_ms(),
        );
        let auth = &expected.iter().find(|(k, _)| *k == "authorization").unwrap().1;
        assert!(head.contains(&format!("authorization: {}", auth.to_ascii_lowercase())), "{head}\n{auth}");
    }

    #[test]
    fn an_error_answer_gives_its_message() {
        assert_eq!(error_message(br#"{"errorMessage":"no","errorType":"Error"}"#), "no");
        assert_eq!(error_message(br#"{"errorType":"Runtime.ExitError"}"#), "Runtime.ExitError");
        assert_eq!(error_message(b"not json"), "Unhandled");
    }
}
