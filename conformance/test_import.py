"""User import jobs with boto3: GetCSVHeader, CreateUserImportJob with each
PasswordHashingAlgorithm, the CSV uploaded to the pre-signed URL (an HTTP PUT, as curl -T
sends it), StartUserImportJob, DescribeUserImportJob, ListUserImportJobs, StopUserImportJob.
Hashes are made by the reference implementations (Python's bcrypt, hashlib.scrypt,
argon2-cffi, hashlib.pbkdf2_hmac); each imported user signs in with the old password and is
then re-hashed (SRP works afterwards). Malformed rows are reported by line number in the log
and the rest imported; a kill -9 in the middle of a job leaves no half-user, and the job
finishes after the restart with every row counted once."""

from __future__ import annotations

import os
import signal
import time

import pytest
from pycognito.aws_srp import AWSSRP

from auth_support import make_app_client
from conftest import start_janus, stop_janus
from import_support import OLD_PASSWORD, ROLE, csv_of, hash_of, run_job, upload, user_row, wait_done
from support import raises_code

def import_pool(cognito, pool_factory) -> tuple[str, str]:
    pool = pool_factory(AutoVerifiedAttributes=["email"],
                        Schema=[{"Name": "team", "AttributeDataType": "String", "Mutable": True}])["Id"]
    client = make_app_client(cognito, pool)["ClientId"]
    return pool, client


def test_the_csv_header_follows_the_pool_schema(cognito, pool_factory):
    pool, _ = import_pool(cognito, pool_factory)
    header = cognito.get_csv_header(UserPoolId=pool)
    assert header["UserPoolId"] == pool
    h = header["CSVHeader"]
    assert h[-3:] == ["cognito:mfa_enabled", "cognito:username", "password_hash"]
    assert {"email", "email_verified", "phone_number", "given_name", "custom:team"} <= set(h)
    assert h.index("custom:team") > h.index("email") and "sub" not in h


@pytest.mark.parametrize("algorithm", ["BCRYPT", "SCRYPT", "ARGON2ID", "PBKDF2_SHA256"])
def test_imported_hashes_sign_in_with_the_old_password(cognito, public, pool_factory, janus, algorithm):
    pool, client = import_pool(cognito, pool_factory)
    header = cognito.get_csv_header(UserPoolId=pool)["CSVHeader"]
    cognito.admin_create_user(UserPoolId=pool, Username="already", MessageAction="SUPPRESS")
    rows = [
        user_row("alice", password_hash=hash_of(algorithm), **{"custom:team": "red, blue"}),
        user_row("bob"),  # no hash: RESET_REQUIRED
        user_row("mallory", password_hash="$not$a$hash"),
        {"cognito:username": "nobody", "email": "nobody@example.com", "email_verified": "FALSE"},
        user_row("already", password_hash=hash_of(algorithm)),
    ]
    job = run_job(cognito, pool, csv_of(header, rows), algorithm)
    assert job["Status"] == "Succeeded", job
    assert (job["ImportedUsers"], job["SkippedUsers"], job["FailedUsers"]) == (2, 1, 2), job
    assert job["PasswordHashingAlgorithm"] == algorithm and job["CompletionMessage"]
    alice = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert alice["UserStatus"] == "CONFIRMED"
    assert {"Name": "custom:team", "Value": "red, blue"} in alice["UserAttributes"]
    assert cognito.admin_get_user(UserPoolId=pool, Username="bob")["UserStatus"] == "RESET_REQUIRED"
    # Until the first password sign-in there is no SRP verifier; then the hash is Janus's own.
    srp = AWSSRP(username="alice", password=OLD_PASSWORD, pool_id=pool, client_id=client, client=public)
    with raises_code("NotAuthorizedException"):
        srp.authenticate_user()
    tokens = public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client,
                                  AuthParameters={"USERNAME": "alice", "PASSWORD": OLD_PASSWORD})
    assert tokens["AuthenticationResult"]["AccessToken"]
    with raises_code("NotAuthorizedException"):
        public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client,
                             AuthParameters={"USERNAME": "alice", "PASSWORD": "Wrong-Passw0rd!"})
    srp = AWSSRP(username="alice", password=OLD_PASSWORD, pool_id=pool, client_id=client, client=public)
    assert srp.authenticate_user()["AuthenticationResult"]["AccessToken"], "re-hashed: SRP works now"
    with raises_code("PasswordResetRequiredException"):
        public.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=client,
                             AuthParameters={"USERNAME": "bob", "PASSWORD": OLD_PASSWORD})
    log = janus.stderr_path.read_text(errors="replace")
    assert f"[FAILED] Line Number 4 - " in log and "[SKIPPED] Line Number 6 - The user already exists." in log
    assert "[FAILED] Line Number 5 - The User Record does not set any of the auto verified attributes" in log
    assert "$not$a$hash" not in log and rows[0]["password_hash"] not in log, "no row value is logged"


def test_jobs_are_listed_newest_first_and_described(cognito, pool_factory):
    pool, _ = import_pool(cognito, pool_factory)
    made = [cognito.create_user_import_job(UserPoolId=pool, JobName=f"job{i}", CloudWatchLogsRoleArn=ROLE)
            ["UserImportJob"] for i in range(3)]
    assert all(j["Status"] == "Created" and j["JobId"].startswith("import-") for j in made)
    first = cognito.list_user_import_jobs(UserPoolId=pool, MaxResults=2)
    assert [j["JobName"] for j in first["UserImportJobs"]] == ["job2", "job1"]
    rest = cognito.list_user_import_jobs(UserPoolId=pool, MaxResults=2, PaginationToken=first["PaginationToken"])
    assert [j["JobName"] for j in rest["UserImportJobs"]] == ["job0"]
    d = cognito.describe_user_import_job(UserPoolId=pool, JobId=made[0]["JobId"])["UserImportJob"]
    assert d["CloudWatchLogsRoleArn"] == ROLE and "PreSignedUrl" not in d


def test_bad_requests_get_cognitos_errors(cognito, pool_factory):
    pool, _ = import_pool(cognito, pool_factory)
    job = cognito.create_user_import_job(UserPoolId=pool, JobName="j", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    with raises_code("PreconditionNotMetException") as e:
        cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert e.value.response["Error"]["Message"] == f"No csv file was uploaded for {job['JobId']}"
    with raises_code("PreconditionNotMetException"):
        cognito.stop_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    with raises_code("ResourceNotFoundException"):
        cognito.describe_user_import_job(UserPoolId=pool, JobId="import-nosuchjob")
    with raises_code("InvalidParameterException"):
        cognito.create_user_import_job(UserPoolId=pool, JobName="j", CloudWatchLogsRoleArn=ROLE,
                                       PasswordHashingAlgorithm="MD5")
    forged = job["PreSignedUrl"].replace("token=", "token=x")
    assert upload(forged, "a\n").status_code == 403
    other = cognito.create_user_import_job(UserPoolId=pool, JobName="k", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert upload(other["PreSignedUrl"].replace(other["JobId"], job["JobId"]), "a\n").status_code == 403
    assert upload(job["PreSignedUrl"], b"\xff\xfe not utf-8\n").status_code == 400
    header = cognito.get_csv_header(UserPoolId=pool)["CSVHeader"]
    assert upload(job["PreSignedUrl"], csv_of(header, [user_row("x")])).status_code == 200
    cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    assert upload(job["PreSignedUrl"], csv_of(header, [user_row("y")])).status_code == 409
    with raises_code("PreconditionNotMetException"):
        cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    wait_done(cognito, pool, job["JobId"])
    no_hash_column = [h for h in header if h != "password_hash"]
    failed = run_job(cognito, pool, csv_of(no_hash_column, [user_row("z")]), "BCRYPT")
    assert failed["Status"] == "Failed" and failed["ImportedUsers"] == 0


def test_a_stopped_job_keeps_what_it_imported(cognito, pool_factory):
    pool, _ = import_pool(cognito, pool_factory)
    header = cognito.get_csv_header(UserPoolId=pool)["CSVHeader"]
    body = csv_of(header, [user_row(f"u{i:05}") for i in range(20000)])
    job = cognito.create_user_import_job(UserPoolId=pool, JobName="big", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert upload(job["PreSignedUrl"], body).status_code == 200
    cognito.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    while cognito.describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]["ImportedUsers"] == 0:
        time.sleep(0.02)
    stopped = cognito.stop_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert stopped["Status"] in ("Stopping", "Stopped")
    done = wait_done(cognito, pool, job["JobId"])
    assert done["Status"] == "Stopped" and done["CompletionMessage"] == "The Import Job was stopped by the developer."
    assert 0 < done["ImportedUsers"] < 20000
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"] == done["ImportedUsers"]


def test_a_kill_in_the_middle_of_a_job_leaves_no_half_user(tmp_path):
    """kill -9 while a 30,000-row job runs; after the restart the job resumes from its last
    committed batch and ends with every row counted once and as many users as it imported."""
    import boto3
    from botocore.config import Config

    server = start_janus(tmp_path / "node")
    admin = lambda s: boto3.client(  # noqa: E731
        "cognito-idp", endpoint_url=s.endpoint, region_name="us-east-1", aws_access_key_id=s.access_key_id,
        aws_secret_access_key=s.secret_access_key, config=Config(retries={"max_attempts": 1}))
    a = admin(server)
    pool = a.create_user_pool(PoolName="kill", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    header = a.get_csv_header(UserPoolId=pool)["CSVHeader"]
    rows = [user_row(f"k{i:05}") for i in range(30000)]
    rows[12345]["email_verified"] = "maybe"  # one bad row
    job = a.create_user_import_job(UserPoolId=pool, JobName="kill", CloudWatchLogsRoleArn=ROLE)["UserImportJob"]
    assert upload(job["PreSignedUrl"], csv_of(header, rows)).status_code == 200
    a.start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    while a.describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]["ImportedUsers"] < 2000:
        time.sleep(0.01)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait()
    server = start_janus(tmp_path / "node", data_dir=server.data_dir)
    try:
        a = admin(server)
        midway = a.describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
        assert midway["ImportedUsers"] < 30000, "the kill landed in the middle of the job"
        done = wait_done(a, pool, job["JobId"], timeout=120)
        assert done["Status"] == "Succeeded", done
        assert (done["ImportedUsers"], done["SkippedUsers"], done["FailedUsers"]) == (29999, 0, 1), done
        assert a.describe_user_pool(UserPoolId=pool)["UserPool"]["EstimatedNumberOfUsers"] == 29999
        last = a.admin_get_user(UserPoolId=pool, Username="k29999")
        assert last["UserStatus"] == "RESET_REQUIRED"
    finally:
        stop_janus(server)
