"""Helpers for the sign-in tests (test_signin.py, test_srp.py, test_tokens.py, test_me.py,
test_signup.py, test_smtp.py, test_identity_js.py, test_existence.py): app clients with the
flows a test needs, confirmed users, password sign-ins, SECRET_HASH, unverified JWT claims,
and the codes Janus writes to its development outbox (<data-dir>/outbox.jsonl).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path

from support import GOOD_PASSWORD, attr_list, unique

# Every flow a test may use; tests of flow enforcement pass their own list.
ALL_FLOWS = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]

NEW_PASSWORD = "N3w-Passw0rd!"
CODE = re.compile(r"\b(\d{6})\b")


def secret_hash(secret: str, username: str, client_id: str) -> str:
    """Cognito's SECRET_HASH: base64(HMAC-SHA256(secret, username + client id))."""
    mac = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def make_app_client(cognito, pool: str, *, flows=None, secret: bool = False, **kwargs) -> dict:
    """CreateUserPoolClient -> the UserPoolClient dict (ClientId, ClientSecret when `secret`).
    `flows` defaults to ALL_FLOWS; pass [] to leave ExplicitAuthFlows unset (Cognito's default)."""
    flows = ALL_FLOWS if flows is None else flows
    if flows:
        kwargs["ExplicitAuthFlows"] = flows
    return cognito.create_user_pool_client(
        UserPoolId=pool, ClientName=unique("app"), GenerateSecret=secret, **kwargs
    )["UserPoolClient"]


def make_user(cognito, pool: str, username: str | None = None, password: str = GOOD_PASSWORD,
              **attributes: str) -> str:
    """A CONFIRMED user with a permanent `password` (AdminCreateUser + AdminSetUserPassword)."""
    username = username or unique("user")
    cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                              UserAttributes=attr_list(**attributes))
    cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password,
                                    Permanent=True)
    return username


def make_temp_user(cognito, pool: str, username: str | None = None,
                   password: str = GOOD_PASSWORD, **attributes: str) -> str:
    """A FORCE_CHANGE_PASSWORD user whose temporary password is `password`."""
    username = username or unique("user")
    cognito.admin_create_user(UserPoolId=pool, Username=username, TemporaryPassword=password,
                              MessageAction="SUPPRESS", UserAttributes=attr_list(**attributes))
    return username


def password_auth(client, client_id: str, username: str, password: str = GOOD_PASSWORD,
                  secret: str | None = None) -> dict:
    """InitiateAuth with USER_PASSWORD_AUTH; the whole response."""
    params = {"USERNAME": username, "PASSWORD": password}
    if secret is not None:
        params["SECRET_HASH"] = secret_hash(secret, username, client_id)
    return client.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
                                AuthParameters=params)


def sign_in(client, client_id: str, username: str, password: str = GOOD_PASSWORD,
            secret: str | None = None) -> dict:
    """The AuthenticationResult of a successful USER_PASSWORD_AUTH sign-in."""
    resp = password_auth(client, client_id, username, password, secret)
    assert "AuthenticationResult" in resp, f"expected tokens, got {resp}"
    return resp["AuthenticationResult"]


def claims(token: str) -> dict:
    """A JWT's payload, unverified (test_tokens.py verifies signatures with PyJWT)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def header(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Outbox:
    """The development outbox of a janus data directory: one JSON message per line."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "outbox.jsonl"

    def messages(self, pool: str | None = None, username: str | None = None) -> list[dict]:
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = [json.loads(line) for line in lines if line.strip()]
        return [m for m in out
                if (pool is None or m.get("pool") == pool)
                and (username is None or m.get("username") == username)]

    def last(self, pool: str, username: str) -> dict:
        found = self.messages(pool, username)
        assert found, f"no message for {username} in pool {pool} in {self.path}"
        return found[-1]

    def code(self, pool: str, username: str) -> str:
        """The code in the newest message to `username` of `pool`."""
        msg = self.last(pool, username)
        m = CODE.search(msg["body"])
        assert m, f"no 6-digit code in {msg['body']!r}"
        return m.group(1)

    def count(self, pool: str, username: str) -> int:
        return len(self.messages(pool, username))


def wrong_code(code: str) -> str:
    """A six-digit code different from `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"
