"""The measuring half of bench/import.sh (see there): writes the CSV, uploads it to the
job's pre-signed URL, starts the job and follows it, sampling the server's RSS."""

from __future__ import annotations

import argparse
import os
import sys
import time

import bcrypt
import requests

from mfa import admin, wait_health

ROLE = "arn:aws:iam::123456789012:role/CognitoImport"


def rss_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def write_csv(path: str, header: list[str], rows: int) -> None:
    """`rows` users with bcrypt hashes (cost 10, a few distinct ones: the import parses and
    stores a hash, it never computes one)."""
    hashes = [bcrypt.hashpw(f"Passw0rd-{i}".encode(), bcrypt.gensalt(rounds=10)).decode() for i in range(16)]
    at = {h: i for i, h in enumerate(header)}
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        blank = [""] * len(header)
        for i in range(rows):
            v = list(blank)
            v[at["cognito:username"]] = f"user{i:07}"
            v[at["email"]] = f"user{i:07}@example.com"
            v[at["email_verified"]] = "TRUE"
            v[at["password_hash"]] = hashes[i % len(hashes)]
            f.write(",".join(v) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--csv")
    a = ap.parse_args()
    wait_health(a.url)
    c = admin(a.url)
    pool = c.create_user_pool(PoolName="bench-import", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    header = c.get_csv_header(UserPoolId=pool)["CSVHeader"]
    t0 = time.time()
    write_csv(a.csv, header, a.rows)
    size = os.path.getsize(a.csv)
    print(f"CSV: {a.rows} rows, {size / 1e6:.1f} MB, written in {time.time() - t0:.0f} s", file=sys.stderr)
    idle_rss = rss_kib(a.pid, "VmRSS")
    job = c.create_user_import_job(UserPoolId=pool, JobName="bench", CloudWatchLogsRoleArn=ROLE,
                                   PasswordHashingAlgorithm="BCRYPT")["UserImportJob"]
    t0 = time.time()
    with open(a.csv, "rb") as f:
        r = requests.put(job["PreSignedUrl"], data=f, headers={"x-amz-server-side-encryption": "aws:kms"}, timeout=3600)
    assert r.status_code == 200, r.text
    upload_s = time.time() - t0
    c.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    t0 = time.time()
    samples = []
    while True:
        j = c.describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
        samples.append((time.time() - t0, j["ImportedUsers"], rss_kib(a.pid, "VmRSS")))
        if j["Status"] not in ("Pending", "InProgress"):
            break
        time.sleep(1)
    import_s = samples[-1][0]
    peak = rss_kib(a.pid, "VmHWM")
    assert j["Status"] == "Succeeded" and j["ImportedUsers"] == a.rows, j
    rates = [(n2 - n1) / (t2 - t1) for (t1, n1, _), (t2, n2, _) in zip(samples, samples[1:]) if t2 > t1]
    rates.sort()
    print(f"Upload of {size / 1e6:.1f} MB: {upload_s:.1f} s ({size / 1e6 / upload_s:.1f} MB/s)")
    print(f"Import of {a.rows} users with bcrypt hashes: {import_s:.1f} s, {a.rows / import_s:.0f} rows/s overall; "
          f"per-second progress p50 {rates[len(rates) // 2]:.0f} rows/s (min {rates[0]:.0f}, max {rates[-1]:.0f})")
    print(f"Server RSS: {idle_rss / 1024:.0f} MiB before the upload, peak {peak / 1024:.0f} MiB (VmHWM), "
          f"{samples[-1][2] / 1024:.0f} MiB at the end")
    print(f"Users in the pool: {c.describe_user_pool(UserPoolId=pool)['UserPool']['EstimatedNumberOfUsers']}")


if __name__ == "__main__":
    main()
