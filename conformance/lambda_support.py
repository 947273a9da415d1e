"""A real implementation of the AWS Lambda Invoke API for the trigger tests:
serverless-offline (npm, on serverless v3) serving the handlers of conformance/lambda/ — Node.js
and Python functions written as users write them — on a free loopback port. Chosen over the
Lambda runtime interface emulator because it installs from npm (the emulator is a binary
from GitHub releases or a container image) and runs both runtimes in one process.

Every handler appends the event it received to a JSONL file; `LambdaHost.events` reads it."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from support import free_port

LAMBDA_DIR = Path(__file__).resolve().parent / "lambda"
SERVICE = "janus-triggers-test"
START_TIMEOUT = 90.0


@dataclass
class LambdaHost:
    endpoint: str
    events_path: Path
    process: subprocess.Popen
    log_path: Path

    @staticmethod
    def arn(function: str, region: str = "us-east-1") -> str:
        """The ARN a pool's LambdaConfig names `function` by."""
        return f"arn:aws:lambda:{region}:123456789012:function:{SERVICE}-{function}"

    def _records(self, function: str, match: dict) -> list[dict]:
        """What the handlers recorded for `function`'s events whose top-level fields equal `match`."""
        try:
            lines = self.events_path.read_text().splitlines()
        except FileNotFoundError:
            return []
        found = [json.loads(line) for line in lines if line.strip()]
        return [r for r in found if r["fn"] == function and all(r["event"].get(k) == v for k, v in match.items())]

    def events(self, function: str, **match) -> list[dict]:
        """The events `function` received, oldest first, whose top-level fields equal `match`."""
        return [r["event"] for r in self._records(function, match)]

    def found(self, function: str, **match) -> list[tuple[dict, dict]]:
        """(event, what the handler worked out) for `function`'s matching events, oldest first."""
        return [(r["event"], r.get("found") or {}) for r in self._records(function, match)]

    def functions(self, function: str, **match) -> list[str]:
        """The deployed function names that ran `function`'s handler for the matching events."""
        return [r["functionName"] for r in self._records(function, match)]

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


def start_lambda_host(root: Path, env: dict | None = None) -> LambdaHost:
    """Start serverless-offline (its handlers also see `env`); returns once its Invoke API
    answers. Python handlers run on the test venv's interpreter (VIRTUAL_ENV), which holds
    the packages they import (aws-encryption-sdk)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    events = root / "events.jsonl"
    log = root / "serverless.log"
    env = dict(os.environ, LAMBDA_PORT=str(port), LAMBDA_HTTP_PORT=str(free_port()),
               JANUS_TEST_EVENTS=str(events), SLS_TELEMETRY_DISABLED="1", SLS_NOTIFICATIONS_MODE="off",
               SLS_DEPRECATION_DISABLE="*", AWS_ACCESS_KEY_ID="offline", AWS_SECRET_ACCESS_KEY="offline",
               PYTHONDONTWRITEBYTECODE="1", VIRTUAL_ENV=str(LAMBDA_DIR.parent.parent / ".venv"), **(env or {}))
    binary = LAMBDA_DIR / "node_modules" / ".bin" / "serverless"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(binary), "offline", "start"], cwd=LAMBDA_DIR, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    host = LambdaHost(f"http://127.0.0.1:{port}", events, proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"serverless-offline exited with {proc.returncode}:\n{host.log_tail()}")
        try:
            # An unknown function answers 404 once the Invoke API is up.
            urllib.request.urlopen(urllib.request.Request(
                f"{host.endpoint}/2015-03-31/functions/none/invocations", data=b"{}", method="POST"), timeout=2)
        except urllib.error.HTTPError:
            return host
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_lambda_host(host)
            raise RuntimeError(f"serverless-offline did not start:\n{host.log_tail()}")
        time.sleep(0.2)


def stop_lambda_host(host: LambdaHost) -> None:
    import signal
    try:
        os.killpg(host.process.pid, signal.SIGTERM)
        host.process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(host.process.pid, signal.SIGKILL)
        host.process.wait()
