"""Helpers of the OAuth tests: OAuth-enabled app clients, PKCE values, and a hosted sign-in
driven with `requests` (the real pages and their forms, cookies kept) for the tests that need
the code itself rather than a browser (negative tests, cross-region)."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from support import unique

REDIRECT = "https://app.example.com/callback"
LOGOUT = "https://app.example.com/signed-out"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def oauth_client(cognito, pool: str, *, secret: bool = False, flows=("code",),
                 scopes=("openid", "email", "profile"), **kwargs) -> dict:
    """An app client with the hosted UI's OAuth settings."""
    return cognito.create_user_pool_client(
        UserPoolId=pool, ClientName=unique("web"), GenerateSecret=secret,
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=list(flows),
        AllowedOAuthScopes=list(scopes), CallbackURLs=[REDIRECT], LogoutURLs=[LOGOUT],
        SupportedIdentityProviders=["COGNITO"], **kwargs)["UserPoolClient"]


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def hidden_fields(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in HIDDEN.findall(page)}


def authorize_url(base: str, client_id: str, challenge: str | None, *, redirect_uri: str = REDIRECT,
                  scope: str = "openid email", state: str = "st-1", **extra) -> str:
    q = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
         "scope": scope, "state": state, **extra}
    if challenge:
        q.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{base}/oauth2/authorize?{urlencode(q)}"


def hosted_login(base: str, client_id: str, username: str, password: str,
                 challenge: str | None, scope: str = "openid email") -> str:
    """Sign in on the hosted page at `base` (`<endpoint>/oauth/<pool>`); the code."""
    s = requests.Session()
    r = s.get(authorize_url(base, client_id, challenge, scope=scope), allow_redirects=True, timeout=10)
    assert r.status_code == 200 and "<form" in r.text, r.text[:500]
    form = hidden_fields(r.text) | {"username": username, "password": password}
    r = s.post(f"{base}/login", data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:800]
    loc = urlparse(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT, r.headers["Location"]
    q = parse_qs(loc.query)
    assert q["state"] == ["st-1"]
    return q["code"][0]


def redeem(base: str, client_id: str, code: str, verifier: str | None, *,
           secret: str | None = None, redirect_uri: str = REDIRECT) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    auth = (client_id, secret) if secret else None
    if not secret:
        data["client_id"] = client_id
    return requests.post(f"{base}/oauth2/token", data=data, auth=auth, timeout=10)
