//! The hosted sign-in as a browser without JavaScript walks it, for `janus drill`: GET
//! `/oauth2/authorize` (PKCE S256), follow to the login page keeping its CSRF cookie, post the
//! username and password, read the authorization code from the redirect to the callback URL,
//! and redeem it at `/oauth2/token`. Everything goes to one base URL (`<front door>/oauth/<pool>`),
//! so a login begun before a failover can be redeemed after it.

use serde_json::Value;
use std::time::Duration;

/// One app client's hosted sign-in at one base URL.
pub struct Hosted {
    base: String,
    client_id: String,
    redirect_uri: String,
    agent: ureq::Agent,
}

/// An authorization code and the PKCE verifier that redeems it.
pub struct Code {
    /// The code from the redirect.
    pub code: String,
    /// The PKCE verifier.
    pub verifier: String,
}

impl Hosted {
    /// The hosted sign-in of `client_id` for `pool` behind `endpoint`, redirecting to `redirect_uri`.
    pub fn new(endpoint: &str, pool: &str, client_id: &str, redirect_uri: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Self {
            base: format!("{}/oauth/{pool}", endpoint.trim_end_matches('/')),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            agent,
        }
    }

    /// The same client's hosted sign-in at another region's `endpoint`.
    pub fn at(self, endpoint: &str, pool: &str) -> Self {
        Self { base: format!("{}/oauth/{pool}", endpoint.trim_end_matches('/')), ..self }
    }

    /// Sign `user` in on the login page; the code the callback receives.
    pub fn sign_in(&self, user: &str, password: &str, verifier: String) -> Result<Code, String> {
        let state = "drill";
        let query = form(&[
            ("response_type", "code"),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("scope", "openid"),
            ("state", state),
            ("code_challenge", &janus_core::oauth::code::s256(&verifier)),
            ("code_challenge_method", "S256"),
        ]);
        let mut url = format!("{}/oauth2/authorize?{query}", self.base);
        let mut cookies = Vec::new();
        // authorize → (redirect) → the login page: a few hops at most.
        let mut hops = 0;
        let page = loop {
            let mut r = self.agent.get(&url).header("cookie", cookies.join("; ")).call().map_err(|e| e.to_string())?;
            keep_cookies(&r, &mut cookies);
            match r.status().as_u16() {
                200 => break r.body_mut().read_to_string().map_err(|e| e.to_string())?,
                302 | 303 if hops < 5 => url = self.absolute(location(&r)?),
                302 | 303 => return Err("authorize: too many redirects".into()),
                s => return Err(format!("authorize: HTTP {s}")),
            }
            hops += 1;
        };
        let mut fields = hidden_fields(&page);
        fields.push(("username".into(), user.into()));
        fields.push(("password".into(), password.into()));
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = self
            .agent
            .post(format!("{}/login", self.base))
            .header("cookie", cookies.join("; "))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(form(&pairs))
            .map_err(|e| e.to_string())?;
        if !matches!(r.status().as_u16(), 302 | 303) {
            return Err(format!("login page: HTTP {} (no redirect to the app)", r.status()));
        }
        let to = location(&r)?;
        let (target, q) = to.split_once('?').unwrap_or((to, ""));
        if target != self.redirect_uri {
            return Err(format!("login redirected to {target}, not the callback URL"));
        }
        let params: Vec<(String, String)> = url_decode_pairs(q);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("state").as_deref() != Some(state) {
            return Err("the callback's state does not match".into());
        }
        let code =
            get("code").ok_or_else(|| format!("no code in the callback: {}", get("error").unwrap_or_default()))?;
        Ok(Code { code, verifier })
    }

    /// Redeem `code` at the token endpoint; the token response.
    pub fn redeem(&self, code: &Code) -> Result<Value, String> {
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &self.client_id),
            ("code", &code.code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", &code.verifier),
        ]);
        let mut r = self
            .agent
            .post(format!("{}/oauth2/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .send(body)
            .map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap_or_default()).unwrap_or_default();
        if status != 200 || v["access_token"].as_str().is_none() {
            return Err(format!("token endpoint: HTTP {status}: {} {}", v["error"], v["error_description"]));
        }
        Ok(v)
    }

    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            return location.to_owned();
        }
        // A path: same scheme and authority as the base.
        let authority_end = self.base.find("://").map_or(0, |i| i + 3);
        let origin_end = self.base[authority_end..].find('/').map_or(self.base.len(), |i| authority_end + i);
        format!("{}{location}", &self.base[..origin_end])
    }
}

fn location(r: &ureq::http::Response<ureq::Body>) -> Result<&str, String> {
    r.headers().get("location").and_then(|v| v.to_str().ok()).ok_or_else(|| "a redirect without Location".into())
}

fn keep_cookies(r: &ureq::http::Response<ureq::Body>, jar: &mut Vec<String>) {
    for v in r.headers().get_all("set-cookie") {
        if let Some(pair) = v.to_str().ok().and_then(|s| s.split(';').next()) {
            let name = pair.split('=').next().unwrap_or_default();
            jar.retain(|c| c.split('=').next() != Some(name));
            jar.push(pair.trim().to_owned());
        }
    }
}

/// `<input type="hidden" name="…" value="…">` fields of a page, unescaped.
fn hidden_fields(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in page.split("<input type=\"hidden\" name=\"").skip(1) {
        let Some((name, rest)) = part.split_once('"') else { continue };
        let Some(value) = rest.strip_prefix(" value=\"").and_then(|r| r.split_once('"')).map(|(v, _)| v) else {
            continue;
        };
        out.push((unescape(name), unescape(value)));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hidden_fields_and_query_decoding() {
        let page = r#"<input type="hidden" name="csrf" value="a&amp;b"><input type="hidden" name="x" value="">"#;
        assert_eq!(super::hidden_fields(page), vec![("csrf".into(), "a&b".into()), ("x".into(), String::new())]);
        assert_eq!(
            super::url_decode_pairs("code=a%2Fb&state=d+r"),
            vec![("code".into(), "a/b".into()), ("state".into(), "d r".into())]
        );
    }
}
