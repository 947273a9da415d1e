"""Helpers shared by the conformance tests (imported by conftest.py and the test modules).

Nothing here talks to Janus on its own: the server and clients come from the fixtures in
conftest.py. These are small utilities for asserting Cognito's error codes, reading attribute
lists, making unique names, and sending raw (optionally SigV4-signed) HTTP requests for the
malformed-input tests that boto3 would refuse to send.
"""

from __future__ import annotations

import contextlib
import http.client
import ssl
import json
import uuid
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

TARGET_PREFIX = "AWSCognitoIdentityProviderService."
CONTENT_TYPE = "application/x-amz-json-1.1"

# A password that satisfies Cognito's default policy (upper, lower, digit, symbol, >= 8).
GOOD_PASSWORD = "Passw0rd!"


def unique(prefix: str = "t") -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def raises_code(code: str, status: int = 400) -> Iterator[pytest.ExceptionInfo]:
    """Expect a boto3 ClientError with Cognito error `code` and HTTP `status`."""
    with pytest.raises(ClientError) as info:
        yield info
    err = info.value.response["Error"]
    got_status = info.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert err["Code"] == code, f"expected {code}, got {err['Code']}: {err.get('Message')}"
    assert got_status == status, f"expected HTTP {status}, got {got_status} ({err})"
    assert err.get("Message"), f"{code} carries no message"


def attrs(items: list[dict]) -> dict[str, str]:
    """Cognito's [{"Name", "Value"}] as a dict."""
    return {a["Name"]: a.get("Value") for a in items}


def user_attrs(user: dict) -> dict[str, str]:
    """The attributes of a UserType (ListUsers, AdminCreateUser) or AdminGetUser response."""
    return attrs(user.get("Attributes", user.get("UserAttributes", [])))


def attr_list(**kwargs: str) -> list[dict]:
    """attr_list(email="a@b.co") -> [{"Name": "email", "Value": "a@b.co"}]; `custom__x` -> `custom:x`."""
    return [{"Name": k.replace("__", ":"), "Value": v} for k, v in kwargs.items()]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def error_type(self) -> str:
        """`__type` as clients read it: after the last `#`, before any `:`."""
        t = self.json.get("__type", "")
        return t.rsplit("#", 1)[-1].split(":", 1)[0]


def raw_call(
    endpoint: str,
    target: str | None,
    body: bytes | str,
    *,
    credentials: tuple[str, str] | None = None,
    region: str = "us-west-2",
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> RawResponse:
    """POST `body` to `endpoint` with X-Amz-Target `target` (an operation name, or None to omit
    the header), SigV4-signed with `credentials` when given. Returns status, headers, body."""
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": CONTENT_TYPE}
    if target is not None:
        hdrs["X-Amz-Target"] = target if "." in target else TARGET_PREFIX + target
    hdrs.update(headers or {})
    url = endpoint.rstrip("/") + "/"
    if credentials is not None:
        req = AWSRequest(method="POST", url=url, data=body, headers=hdrs)
        SigV4Auth(Credentials(*credentials), "cognito-idp", region).add_auth(req)
        hdrs = dict(req.headers.items())
    parts = urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", "/", body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def health(endpoint: str, timeout: float = 5.0) -> int:
    """GET /health; the status code. Over https the certificate is not checked (this only
    asks whether the server is up; the tests of TLS check it)."""
    parts = urlsplit(endpoint)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _parse_http_response(data: bytes) -> RawResponse | None:
    """A complete HTTP/1.1 response (Content-Length framed) from `data`, skipping any
    interim 1xx responses; None while incomplete."""
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = data[:head_end].decode("latin-1").split("\r\n")
        status = int(head[0].split()[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        rest = data[head_end + 4 :]
        if 100 <= status < 200:
            data = rest
            continue
        length = int(headers.get("content-length", "0"))
        if len(rest) < length:
            return None
        return RawResponse(status, headers, rest[:length])


def send_streaming(
    endpoint: str,
    headers: dict[str, str],
    body: bytes,
    *,
    chunked: bool = False,
    timeout: float = 10.0,
) -> RawResponse:
    """POST a (large) body over a raw socket, the way a careful client does: keep reading
    while writing, so an early response from the server (before the body is fully sent) is
    seen instead of a broken pipe. Raises TimeoutError if no complete response arrives within
    `timeout` seconds overall."""
    import select
    import socket
    import time

    parts = urlsplit(endpoint)
    host, port = parts.hostname, parts.port
    hdrs = {"Host": f"{host}:{port}", **headers}
    if chunked:
        hdrs["Transfer-Encoding"] = "chunked"
    else:
        hdrs["Content-Length"] = str(len(body))
    head = "POST / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    if chunked:
        step = 64 * 1024
        payload = b"".join(
            f"{len(body[i:i + step]):x}\r\n".encode() + body[i : i + step] + b"\r\n"
            for i in range(0, len(body), step)
        ) + b"0\r\n\r\n"
    else:
        payload = body
    out = head.encode() + payload
    deadline = time.monotonic() + timeout
    received = b""
    sent = 0
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setblocking(False)
        writing = True
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no complete response within {timeout}s (sent {sent} bytes)")
            want_write = [sock] if writing and sent < len(out) else []
            readable, writable, _ = select.select([sock], want_write, [], remaining)
            if readable:
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    chunk = b""
                if not chunk:
                    resp = _parse_http_response(received)
                    if resp is None:
                        raise ConnectionError(
                            f"connection closed without a complete response (got {received[:200]!r})"
                        )
                    return resp
                received += chunk
                resp = _parse_http_response(received)
                if resp is not None:
                    return resp
            if writable:
                try:
                    sent += sock.send(out[sent : sent + 256 * 1024])
                except (BrokenPipeError, ConnectionResetError):
                    writing = False
                except BlockingIOError:
                    pass
    finally:
        sock.close()


def free_port() -> int:
    """A TCP port on loopback nobody listens on (for a server the test starts)."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
