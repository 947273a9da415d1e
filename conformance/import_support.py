"""Helpers of the user import tests: password hashes as the reference implementations make
them, in the encodings Cognito documents, CSV files, the upload to a job's pre-signed URL,
and running a job to its end."""

from __future__ import annotations

import base64
import hashlib
import os
import time

import argon2
import bcrypt
import requests

from support import unique

OLD_PASSWORD = "Old-Passw0rd-from-elsewhere"
ROLE = "arn:aws:iam::123456789012:role/CognitoImport"
B64 = lambda b: base64.b64encode(b).decode().rstrip("=")  # noqa: E731


def hash_of(algorithm: str, password: str = OLD_PASSWORD) -> str:
    """`password` hashed as Cognito's documentation shows each algorithm's encoding."""
    salt = os.urandom(16)
    if algorithm == "BCRYPT":
        return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    if algorithm == "SCRYPT":
        digest = hashlib.scrypt(password.encode(), salt=salt, n=1024, r=8, p=1, dklen=32)
        return f"1024$8$1${salt.hex()}${digest.hex()}"
    if algorithm == "ARGON2ID":
        return argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(password)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000)
    return f"$pbkdf2-sha256$1000${B64(salt)}${B64(digest)}"


def csv_of(header: list[str], rows: list[dict]) -> str:
    lines = [",".join(header)]
    for r in rows:
        lines.append(",".join(r.get(h, "").replace(",", "\\,") for h in header))
    return "\n".join(lines) + "\n"


def upload(url: str, body: str | bytes) -> requests.Response:
    return requests.put(url, data=body, headers={"x-amz-server-side-encryption": "aws:kms"}, timeout=60)


def run_job(cognito, pool: str, body: str, algorithm: str | None = None, timeout: float = 60) -> dict:
    """Create, upload, start; the job once it ended."""
    extra = {"PasswordHashingAlgorithm": algorithm} if algorithm else {}
    job = cognito.create_user_import_job(UserPoolId=pool, JobName=unique("job"), CloudWatchLogsRoleArn=ROLE,
                                         **extra)["UserImportJob"]
    assert upload(job["PreSignedUrl"], body).status_code == 200
    cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    return wait_done(cognito, pool, job["JobId"], timeout)


def wait_done(cognito, pool: str, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        j = cognito.describe_user_import_job(UserPoolId=pool, JobId=job_id)["UserImportJob"]
        if j["Status"] in ("Succeeded", "Failed", "Stopped"):
            return j
        assert time.monotonic() < deadline, f"job still {j['Status']}: {j}"
        time.sleep(0.1)


def user_row(name: str, **extra) -> dict:
    return {"cognito:username": name, "email": f"{name}@example.com", "email_verified": "TRUE", **extra}
