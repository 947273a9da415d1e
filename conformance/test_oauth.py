"""OAuth 2.0 / OpenID Connect endpoints and the hosted pages (issue 7).

The relying party is openid-client (node/oidc.js) with Playwright driving Debian's Chromium
on the real login page; boto3 drives the domain, resource-server, UI-customization and app
client operations; `requests` sends the raw token requests of the RFC 9700 negative tests.
Each page is screenshotted into conformance/screenshots/ for review."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from auth_support import NEW_PASSWORD, claims, make_temp_user, make_user, password_auth
from oauth_support import (LOGOUT, REDIRECT, authorize_url, hidden_fields, hosted_login,
                           oauth_client, pkce, redeem)
from mfa_support import code, enrol_by_access_token, set_mfa, wrong
from support import GOOD_PASSWORD, raises_code, unique

NODE_DIR = Path(__file__).resolve().parent / "node"
SHOTS = Path(__file__).resolve().parent / "screenshots"
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5e3a5b70000000049454e44ae426082")).decode()


@pytest.fixture(scope="session")
def oidc(janus):
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "openid-client").is_dir():
        pytest.fail("node and conformance/node/node_modules are needed (run scripts/setup-test-env)")
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is needed (run scripts/setup-test-env)")
    SHOTS.mkdir(exist_ok=True)

    def run(mode: str, **payload) -> dict:
        p = subprocess.run([node, str(NODE_DIR / "oidc.js")], input=json.dumps({"mode": mode, **payload}),
                           capture_output=True, text=True, timeout=120, cwd=NODE_DIR)
        assert p.returncode == 0, f"oidc.js failed ({p.returncode}):\n{p.stderr}"
        return json.loads(p.stdout)

    return run


def base(janus, pool: str) -> str:
    return f"{janus.endpoint}/oauth/{pool}"


def issuer(janus, pool: str) -> str:
    return f"{janus.endpoint}/{pool}"


@pytest.fixture
def web(cognito, pool):
    """A pool with a public PKCE client and a confirmed user with an email."""
    client = oauth_client(cognito, pool)
    user = make_user(cognito, pool, email="ada@example.com", email_verified="true")
    return client, user


# --- Configuration operations (boto3) ----------------------------------------------------


def test_domain_life_cycle(cognito, pool, pool_factory):
    prefix = unique("app").lower().replace("_", "-")
    created = cognito.create_user_pool_domain(UserPoolId=pool, Domain=prefix)
    assert created["ManagedLoginVersion"] == 1
    d = cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    assert (d["UserPoolId"], d["Domain"], d["Status"]) == (pool, prefix, "ACTIVE")
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["Domain"] == prefix
    routing = {"Failover": {"SecondaryRegion": "us-west-2", "PrimaryRoute53HealthCheckId": "hc-1"}}
    updated = cognito.update_user_pool_domain(UserPoolId=pool, Domain=prefix, ManagedLoginVersion=2,
                                              Routing=routing)
    assert updated["Routing"] == routing
    d = cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"]
    assert d["ManagedLoginVersion"] == 2 and d["Routing"] == routing
    other = pool_factory()["Id"]
    with raises_code("InvalidParameterException"):
        cognito.create_user_pool_domain(UserPoolId=other, Domain=prefix)  # taken
    with raises_code("InvalidParameterException"):
        cognito.create_user_pool_domain(UserPoolId=pool, Domain=prefix + "-two")  # one prefix per pool
    with raises_code("InvalidParameterException"):
        cognito.create_user_pool_domain(UserPoolId=other, Domain="my-cognito-login")  # reserved word
    custom = f"{prefix}.example.com"
    cfg = {"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}
    with raises_code("InvalidParameterException"):
        cognito.create_user_pool_domain(UserPoolId=pool, Domain=custom)  # custom needs a certificate
    assert "CloudFrontDomain" in cognito.create_user_pool_domain(UserPoolId=pool, Domain=custom,
                                                                  CustomDomainConfig=cfg)
    assert cognito.describe_user_pool_domain(Domain=custom)["DomainDescription"]["CustomDomainConfig"] == cfg
    with raises_code("InvalidParameterException"):
        cognito.delete_user_pool_domain(UserPoolId=other, Domain=prefix)
    cognito.delete_user_pool_domain(UserPoolId=pool, Domain=prefix)
    assert cognito.describe_user_pool_domain(Domain=prefix)["DomainDescription"] == {}


def test_resource_server_life_cycle(cognito, pool):
    scopes = [{"ScopeName": "read", "ScopeDescription": "Read"}, {"ScopeName": "write", "ScopeDescription": "Write"}]
    rs = cognito.create_resource_server(UserPoolId=pool, Identifier="https://api.example.com", Name="api",
                                        Scopes=scopes)["ResourceServer"]
    assert rs == {"UserPoolId": pool, "Identifier": "https://api.example.com", "Name": "api", "Scopes": scopes}
    with raises_code("InvalidParameterException"):
        cognito.create_resource_server(UserPoolId=pool, Identifier="https://api.example.com", Name="again")
    for i in range(3):
        cognito.create_resource_server(UserPoolId=pool, Identifier=f"svc-{i}", Name=f"svc {i}")
    page = cognito.list_resource_servers(UserPoolId=pool, MaxResults=2)
    assert len(page["ResourceServers"]) == 2 and "NextToken" in page
    rest = cognito.list_resource_servers(UserPoolId=pool, MaxResults=10, NextToken=page["NextToken"])
    assert len(page["ResourceServers"]) + len(rest["ResourceServers"]) == 4
    upd = cognito.update_resource_server(UserPoolId=pool, Identifier="https://api.example.com", Name="api2",
                                         Scopes=scopes[:1])["ResourceServer"]
    assert upd["Name"] == "api2" and upd["Scopes"] == scopes[:1]
    assert cognito.describe_resource_server(UserPoolId=pool, Identifier="https://api.example.com")[
        "ResourceServer"]["Name"] == "api2"
    cognito.delete_resource_server(UserPoolId=pool, Identifier="https://api.example.com")
    with raises_code("ResourceNotFoundException"):
        cognito.describe_resource_server(UserPoolId=pool, Identifier="https://api.example.com")


def test_client_oauth_settings_round_trip(cognito, pool):
    c = oauth_client(cognito, pool, secret=True, flows=("code",), DefaultRedirectURI=REDIRECT)
    d = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
    assert d["AllowedOAuthFlows"] == ["code"]
    assert d["AllowedOAuthScopes"] == ["openid", "email", "profile"]
    assert d["CallbackURLs"] == [REDIRECT] and d["LogoutURLs"] == [LOGOUT]
    assert d["SupportedIdentityProviders"] == ["COGNITO"]
    assert d["AllowedOAuthFlowsUserPoolClient"] is True


def test_ui_customization_is_set_read_and_shown(cognito, pool, janus, web):
    client, _ = web
    css = ".banner-customizable{background:#123456}"
    ui = cognito.set_ui_customization(UserPoolId=pool, ClientId=client["ClientId"], CSS=css,
                                      ImageFile=base64.b64decode(PNG))["UICustomization"]
    assert ui["CSS"] == css and ui["ClientId"] == client["ClientId"]
    got = cognito.get_ui_customization(UserPoolId=pool, ClientId=client["ClientId"])["UICustomization"]
    assert got["CSS"] == css
    with raises_code("InvalidParameterException"):
        cognito.set_ui_customization(UserPoolId=pool, CSS="</style><script>alert(1)</script>")
    _, challenge = pkce()
    page = requests.get(authorize_url(base(janus, pool), client["ClientId"], challenge), timeout=10).text
    assert css in page and "data:image/png;base64," in page


# --- The relying party: openid-client and Chromium ------------------------------------------


def test_discovery_lists_the_oauth_endpoints(janus, pool):
    d = requests.get(f"{issuer(janus, pool)}/.well-known/openid-configuration", timeout=10).json()
    for k, path in [("authorization_endpoint", "oauth2/authorize"), ("token_endpoint", "oauth2/token"),
                    ("userinfo_endpoint", "oauth2/userInfo"), ("revocation_endpoint", "oauth2/revoke")]:
        assert d[k] == f"{base(janus, pool)}/{path}"
    assert d["code_challenge_methods_supported"] == ["S256"]


def test_code_flow_with_pkce_in_a_browser_then_userinfo_refresh_and_revoke(oidc, janus, pool, web):
    client, user = web
    out = oidc("login", issuer=issuer(janus, pool), clientId=client["ClientId"], redirectUri=REDIRECT,
               scope="openid email", username=user, password=GOOD_PASSWORD, redeem=True, userinfo=True,
               refresh=True, revoke=True, screenshots=str(SHOTS))
    assert "error" not in out, out
    c = out["claims"]
    assert c["aud"] == client["ClientId"] and c["cognito:username"] == user and c["token_use"] == "id"
    access = claims(out["tokens"]["access_token"])
    assert access["scope"] == "openid email" and access["username"] == user
    assert out["userinfo"]["email"] == "ada@example.com" and out["userinfo"]["sub"] == c["sub"]
    assert claims(out["refreshed"]["access_token"])["scope"] == "openid email"
    assert out["refreshed"]["claims"]["auth_time"] == c["auth_time"]
    assert out["afterRevoke"] == {"ok": False, "error": "invalid_grant",
                                  "description": "Refresh Token has been revoked"}


def test_new_password_required_in_the_browser(oidc, cognito, janus, pool, web):
    client, _ = web
    temp = make_temp_user(cognito, pool)
    out = oidc("login", issuer=issuer(janus, pool), clientId=client["ClientId"], redirectUri=REDIRECT,
               scope="openid", username=temp, password=GOOD_PASSWORD, newPassword=NEW_PASSWORD,
               redeem=True, screenshots=str(SHOTS))
    assert "error" not in out, out
    assert cognito.admin_get_user(UserPoolId=pool, Username=temp)["UserStatus"] == "CONFIRMED"
    assert "email" not in claims(out["tokens"]["access_token"])["scope"]


def test_totp_step_in_the_browser(oidc, cognito, janus, pool, web, public):
    """A user with an authenticator app signs in on the hosted page: password, then the code
    page; a wrong code is shown on the page (Cognito's message), the right one ends in a code
    that openid-client redeems."""
    client, user = web
    set_mfa(cognito, pool, "OPTIONAL")
    app = cognito.create_user_pool_client(UserPoolId=pool, ClientName="app", ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    tokens = password_auth(public, app, user)["AuthenticationResult"]
    secret = enrol_by_access_token(public, tokens["AccessToken"])
    cognito.admin_set_user_mfa_preference(UserPoolId=pool, Username=user,
                                          SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    wrong_code = oidc("login", issuer=issuer(janus, pool), clientId=client["ClientId"], redirectUri=REDIRECT,
                      scope="openid", username=user, password=GOOD_PASSWORD, mfaCode=wrong(secret),
                      screenshots=str(SHOTS), prefix="wrong-code-")
    assert wrong_code["error"]["code"] == "no_redirect", wrong_code
    assert "Invalid code received for user" in wrong_code["error"]["message"], wrong_code
    out = oidc("login", issuer=issuer(janus, pool), clientId=client["ClientId"], redirectUri=REDIRECT,
               scope="openid", username=user, password=GOOD_PASSWORD, mfaCode=code(secret, 1), redeem=True,
               screenshots=str(SHOTS))
    assert "error" not in out, out
    assert out["claims"]["cognito:username"] == user


def test_mfa_setup_in_the_browser(oidc, cognito, janus, pool, web, public):
    """MFA required and no factor yet: the hosted page sets up an authenticator app (key shown,
    first code verifies it) and the sign-in completes; the key then works for API sign-ins."""
    client, user = web
    set_mfa(cognito, pool, "ON")
    out = oidc("login", issuer=issuer(janus, pool), clientId=client["ClientId"], redirectUri=REDIRECT,
               scope="openid", username=user, password=GOOD_PASSWORD, setupMfa=True, redeem=True,
               screenshots=str(SHOTS))
    assert "error" not in out, out
    assert out["claims"]["cognito:username"] == user
    u = cognito.admin_get_user(UserPoolId=pool, Username=user)
    assert u["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    # The page shows the key as a QR code (an SVG data URL, which the pages' CSP allows).
    svg = base64.b64decode(out["qrSrc"].removeprefix("data:image/svg+xml;base64,"))
    assert out["qrSrc"].startswith("data:image/svg+xml;base64,") and svg.lstrip().startswith((b"<?xml", b"<svg"))
    # The key shown on the page is the user's authenticator secret: an API sign-in answers
    # SOFTWARE_TOKEN_MFA with the next step's code of it (this step's was spent on the page).
    app = cognito.create_user_pool_client(UserPoolId=pool, ClientName="app", ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    r = password_auth(public, app, user)
    assert r["ChallengeName"] == "SOFTWARE_TOKEN_MFA", r
    done = public.respond_to_auth_challenge(ClientId=app, ChallengeName="SOFTWARE_TOKEN_MFA", Session=r["Session"],
                                            ChallengeResponses={"USERNAME": user,
                                                                "SOFTWARE_TOKEN_MFA_CODE": code(out["setupKey"], 1)})
    assert "AccessToken" in done["AuthenticationResult"]


def test_wrong_password_is_shown_on_the_page(oidc, janus, pool, web):
    client, user = web
    out = oidc("login", issuer=issuer(janus, pool), clientId=client["ClientId"], redirectUri=REDIRECT,
               scope="openid", username=user, password="Wrong-Passw0rd!", screenshots=str(SHOTS),
               prefix="wrong-password-")
    assert out["error"]["code"] == "no_redirect"
    assert "Incorrect username or password." in out["error"]["message"]


def test_client_credentials_with_openid_client_and_get_client_token(oidc, cognito, janus, pool, public):
    cognito.create_resource_server(UserPoolId=pool, Identifier="https://api.example.com", Name="api",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "r"},
                                           {"ScopeName": "write", "ScopeDescription": "w"}])
    m2m = oauth_client(cognito, pool, secret=True, flows=("client_credentials",),
                       scopes=("https://api.example.com/read", "https://api.example.com/write"))
    out = oidc("clientCredentials", issuer=issuer(janus, pool), clientId=m2m["ClientId"],
               clientSecret=m2m["ClientSecret"], scope="https://api.example.com/read")
    assert "error" not in out, out
    c = claims(out["access_token"])
    assert c["sub"] == m2m["ClientId"] and c["client_id"] == m2m["ClientId"]
    assert c["scope"] == "https://api.example.com/read" and "username" not in c and c["token_use"] == "access"
    both = claims(oidc("clientCredentials", issuer=issuer(janus, pool), clientId=m2m["ClientId"],
                       clientSecret=m2m["ClientSecret"])["access_token"])["scope"]
    assert both == "https://api.example.com/read https://api.example.com/write"
    bad = oidc("clientCredentials", issuer=issuer(janus, pool), clientId=m2m["ClientId"],
               clientSecret=m2m["ClientSecret"], scope="openid")
    assert bad["error"]["code"] == "invalid_scope"
    wrong = oidc("clientCredentials", issuer=issuer(janus, pool), clientId=m2m["ClientId"],
                 clientSecret="not-the-secret-000000000000")
    assert wrong["error"]["code"] == "invalid_client"
    # client_secret_post works too.
    r = requests.post(f"{base(janus, pool)}/oauth2/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": m2m["ClientId"], "client_secret": m2m["ClientSecret"]})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    t = public.get_client_token(ClientId=m2m["ClientId"], Secret=m2m["ClientSecret"],
                                Scopes=["https://api.example.com/write"])["ClientAuthenticationResult"]
    assert claims(t["AccessToken"])["scope"] == "https://api.example.com/write"


def test_prefix_domain_is_routed_by_host_header(cognito, janus, pool, web):
    client, user = web
    prefix = unique("host").lower().replace("_", "-")
    cognito.create_user_pool_domain(UserPoolId=pool, Domain=prefix)
    host = {"Host": f"{prefix}.auth.us-east-1.amazoncognito.com"}
    verifier, challenge = pkce()
    s = requests.Session()
    q = authorize_url("", client["ClientId"], challenge)
    r = s.get(f"{janus.endpoint}{q}", headers=host, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?")
    page = s.get(f"{janus.endpoint}{r.headers['Location']}", headers=host, timeout=10)
    assert 'action="/login"' in page.text
    form = hidden_fields(page.text) | {"username": user, "password": GOOD_PASSWORD}
    r = s.post(f"{janus.endpoint}/login", headers=host, data=form, allow_redirects=False, timeout=10)
    code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
    t = requests.post(f"{janus.endpoint}/oauth2/token", headers=host, timeout=10, data={
        "grant_type": "authorization_code", "client_id": client["ClientId"], "code": code,
        "redirect_uri": REDIRECT, "code_verifier": verifier})
    assert t.status_code == 200, t.text
    unknown = requests.post(f"{janus.endpoint}/oauth2/token", headers={"Host": "nobody.example.com"}, timeout=10,
                            data={"grant_type": "client_credentials"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_request"


# --- RFC 9700 negative tests --------------------------------------------------------------


@pytest.mark.parametrize("redirect_uri", [
    REDIRECT + "/evil", REDIRECT + "?next=https://evil.example", REDIRECT.upper(),
    "https://app.example.com.evil.example/callback", "https://evil.example/callback", REDIRECT + "#x",
])
def test_unregistered_redirect_uri_is_refused_without_redirecting(janus, pool, web, redirect_uri):
    client, _ = web
    _, challenge = pkce()
    r = requests.get(authorize_url(base(janus, pool), client["ClientId"], challenge, redirect_uri=redirect_uri),
                     allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "Location" not in r.headers
    assert "redirect_mismatch" in r.text


def errors_at_redirect(janus, pool, client_id, **extra) -> dict:
    r = requests.get(authorize_url(base(janus, pool), client_id, None, **extra), allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:300]
    loc = urlparse(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(loc.query).items()}


def test_authorize_errors_go_back_to_the_registered_redirect_uri(janus, pool, web):
    client, _ = web
    q = errors_at_redirect(janus, pool, client["ClientId"])
    assert q["error"] == "invalid_request" and "PKCE" in q["error_description"] and q["state"] == "st-1"
    _, challenge = pkce()
    q = errors_at_redirect(janus, pool, client["ClientId"], code_challenge=challenge, code_challenge_method="plain")
    assert q["error"] == "invalid_request"
    q = errors_at_redirect(janus, pool, client["ClientId"], scope="openid phone",
                           code_challenge=challenge, code_challenge_method="S256")
    assert q["error"] == "invalid_scope"
    q = errors_at_redirect(janus, pool, client["ClientId"], response_type="token",
                           code_challenge=challenge, code_challenge_method="S256")
    assert q["error"] == "unsupported_response_type"


@pytest.fixture
def code_for(cognito, janus, pool, web):
    client, user = web

    def issue(challenge: str | None = "auto"):
        verifier, ch = pkce()
        code = hosted_login(base(janus, pool), client["ClientId"], user, GOOD_PASSWORD,
                            ch if challenge == "auto" else challenge)
        return code, verifier

    return issue


def test_missing_or_wrong_code_verifier_is_invalid_grant(janus, pool, web, code_for):
    client, _ = web
    code, verifier = code_for()
    r = redeem(base(janus, pool), client["ClientId"], code, None)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    wrong, _ = pkce()
    r = redeem(base(janus, pool), client["ClientId"], code, wrong)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert redeem(base(janus, pool), client["ClientId"], code, verifier).status_code == 200


def test_a_code_is_single_use(janus, pool, web, code_for):
    client, _ = web
    code, verifier = code_for()
    first = redeem(base(janus, pool), client["ClientId"], code, verifier)
    assert first.status_code == 200, first.text
    second = redeem(base(janus, pool), client["ClientId"], code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    assert code not in second.text and verifier not in second.text


def test_a_code_redeemed_by_another_client_is_invalid_grant(cognito, janus, pool, web, code_for):
    client, _ = web
    other = oauth_client(cognito, pool, secret=True)
    code, verifier = code_for()
    r = redeem(base(janus, pool), other["ClientId"], code, verifier, secret=other["ClientSecret"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = redeem(base(janus, pool), client["ClientId"], code, verifier, redirect_uri=REDIRECT + "/x")
    assert r.json()["error"] == "invalid_grant"
    assert redeem(base(janus, pool), client["ClientId"], code, verifier).status_code == 200


def test_a_forged_code_and_a_bad_grant_type(janus, pool, web):
    client, _ = web
    r = redeem(base(janus, pool), client["ClientId"], "AAAA" * 30, "x" * 43)
    assert r.json()["error"] == "invalid_grant"
    r = requests.post(f"{base(janus, pool)}/oauth2/token", data={"grant_type": "password",
                                                                "client_id": client["ClientId"]}, timeout=10)
    assert r.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("logout_uri", [
    "https://evil.example/", LOGOUT + "/../../evil", LOGOUT + ".evil.example", "//evil.example", None,
])
def test_logout_refuses_open_redirects(janus, pool, web, logout_uri):
    client, _ = web
    params = {"client_id": client["ClientId"]}
    if logout_uri is not None:
        params["logout_uri"] = logout_uri
    r = requests.get(f"{base(janus, pool)}/logout", params=params, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "Location" not in r.headers


def test_logout_to_a_registered_url(janus, pool, web):
    client, _ = web
    r = requests.get(f"{base(janus, pool)}/logout", params={"client_id": client["ClientId"], "logout_uri": LOGOUT},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == LOGOUT


def test_a_post_without_the_csrf_cookie_is_refused(janus, pool, web):
    client, user = web
    _, challenge = pkce()
    page = requests.get(authorize_url(base(janus, pool), client["ClientId"], challenge), timeout=10)
    form = hidden_fields(page.text) | {"username": user, "password": GOOD_PASSWORD}
    r = requests.post(f"{base(janus, pool)}/login", data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and "Location" not in r.headers


def test_userinfo_needs_a_valid_bearer_token(janus, pool):
    r = requests.get(f"{base(janus, pool)}/oauth2/userInfo", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    assert r.headers["WWW-Authenticate"].startswith("Bearer error=\"invalid_token\"")


# --- Self-service pages ---------------------------------------------------------------------


def test_sign_up_and_forgot_password_pages(cognito, janus, pool_factory, outbox):
    pool = pool_factory(AutoVerifiedAttributes=["email"])["Id"]
    client = oauth_client(cognito, pool)
    _, challenge = pkce()
    s = requests.Session()
    page = s.get(authorize_url(base(janus, pool), client["ClientId"], challenge), timeout=10)
    signup = s.get(f"{base(janus, pool)}/signup?{urlparse(page.url).query}", timeout=10)
    name = unique("new")
    r = s.post(f"{base(janus, pool)}/signup", timeout=10, data=hidden_fields(signup.text) | {
        "username": name, "email": "new@example.com", "password": GOOD_PASSWORD})
    assert "Confirm your account" in r.text, r.text[:500]
    r = s.post(f"{base(janus, pool)}/confirm", timeout=10,
               data=hidden_fields(r.text) | {"code": outbox.code(pool, name)})
    assert "Your account is confirmed" in r.text
    forgot = s.get(f"{base(janus, pool)}/forgotPassword?{urlparse(page.url).query}", timeout=10)
    r = s.post(f"{base(janus, pool)}/forgotPassword", timeout=10,
               data=hidden_fields(forgot.text) | {"username": name})
    assert "Choose a new password" in r.text, r.text[:500]
    r = s.post(f"{base(janus, pool)}/confirmForgotPassword", timeout=10,
               data=hidden_fields(r.text) | {"code": outbox.code(pool, name), "password": NEW_PASSWORD})
    assert "Your password was changed" in r.text
    r = s.post(f"{base(janus, pool)}/login", data=hidden_fields(r.text) | {
        "username": name, "password": NEW_PASSWORD}, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "code=" in r.headers["Location"]


def test_screenshots_of_the_other_pages(oidc, janus, pool, web):
    client, _ = web
    _, challenge = pkce()
    q = urlparse(authorize_url(base(janus, pool), client["ClientId"], challenge)).query
    for name, url, status in [("signup", f"{base(janus, pool)}/signup?{q}", 200),
                              ("forgot-password", f"{base(janus, pool)}/forgotPassword?{q}", 200),
                              ("error", authorize_url(base(janus, pool), client["ClientId"], challenge,
                                                     redirect_uri="https://evil.example/"), 400)]:
        out = oidc("screenshot", url=url, path=str(SHOTS / f"{name}.png"))
        assert out.get("status") == status, out
        assert (SHOTS / f"{name}.png").stat().st_size > 1000
