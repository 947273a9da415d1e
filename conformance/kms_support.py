"""moto's KMS server, an independent implementation of the AWS KMS API, started on loopback
for the tests that need KMS (the AWS KMS key provider, the custom senders' encrypted codes)."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from conftest import REPO
from support import free_port

MOTO = REPO / ".venv" / "bin" / "moto_server"


class Moto:
    def __init__(self, root: Path):
        if not MOTO.exists():
            pytest.skip("moto_server is not installed (scripts/setup-test-env)")
        port = free_port()
        self.log = open(root / "moto.log", "wb")
        self.proc = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=self.log, stderr=self.log)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2)
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.proc.kill()
                    pytest.fail("moto_server did not start")
                time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()


def kms(url: str, region: str = "us-east-1"):
    return boto3.client("kms", endpoint_url=url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")
