"""Codes by real email: a local SMTP server (aiosmtpd) on a free port, and a second janus
configured to use it (JANUS_SMTP_HOST / _PORT / _SECURITY=none / _FROM). Sign-up
confirmation, password recovery and the AdminCreateUser invitation are completed with what
arrives in the mailbox; SMS messages keep going to the development outbox."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from dataclasses import dataclass, field

import boto3
import pytest
from aiosmtpd.controller import Controller
from botocore import UNSIGNED
from botocore.config import Config

from auth_support import NEW_PASSWORD, CODE, Outbox, make_app_client, make_user, password_auth
from conftest import start_janus, stop_janus
from support import GOOD_PASSWORD, attr_list, attrs, unique

FROM = "no-reply@example.com"


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def body(self) -> str:
        return self.message.get_content()


@dataclass
class Mailbox:
    """What the SMTP server received, in order."""

    mails: list[Mail] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        with self.cond:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg))
            self.cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, rcpt: str, after: int = 0, timeout: float = 10.0) -> Mail:
        """The first mail to `rcpt` among those received after the first `after` mails."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.mails[after:]:
                    if rcpt in m.rcpt_tos:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no mail to {rcpt} within {timeout}s "
                                         f"(got {[m.rcpt_tos for m in self.mails]})")
                self.cond.wait(left)

    def count(self) -> int:
        with self.cond:
            return len(self.mails)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class SmtpJanus:
    server: object
    mailbox: Mailbox
    admin: object
    public: object
    outbox: Outbox


@pytest.fixture(scope="module")
def smtp_janus(tmp_path_factory):
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        server = start_janus(tmp_path_factory.mktemp("janus-smtp"), extra_env={
            "JANUS_SMTP_HOST": "127.0.0.1",
            "JANUS_SMTP_PORT": str(port),
            "JANUS_SMTP_SECURITY": "none",
            "JANUS_SMTP_FROM": FROM,
        })
        try:
            cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=30)
            admin = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                                 aws_access_key_id=server.access_key_id,
                                 aws_secret_access_key=server.secret_access_key, config=cfg)
            public = boto3.client("cognito-idp", endpoint_url=server.endpoint, region_name=server.region,
                                  config=Config(signature_version=UNSIGNED,
                                                retries={"max_attempts": 1, "mode": "standard"}))
            yield SmtpJanus(server, mailbox, admin, public, Outbox(server.data_dir))
        finally:
            code = stop_janus(server)
            assert code == 0, f"janus exited with {code}:\n{server.log_tail()}"
    finally:
        controller.stop()


def code_in(mail: Mail) -> str:
    m = CODE.search(mail.body)
    assert m, f"no code in {mail.body!r}"
    return m.group(1)


def test_sign_up_confirmed_with_emailed_code(smtp_janus):
    s = smtp_janus
    pool = s.admin.create_user_pool(PoolName=unique("smtp"), AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    app = make_app_client(s.admin, pool)
    user, address = unique("mail"), f"{unique('to')}@example.com"
    seen = s.mailbox.count()
    r = s.public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                         UserAttributes=attr_list(email=address))
    assert r["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    mail = s.mailbox.wait_for(address, after=seen)
    assert mail.rcpt_tos == [address]
    assert mail.mail_from == FROM
    assert mail.message["From"] == FROM
    assert mail.message["To"] == address
    assert mail.message["Subject"]
    assert mail.message.get_content_type() == "text/plain"
    code = code_in(mail)
    # Sent by email, so not in the development outbox.
    assert s.outbox.count(pool, user) == 0
    s.public.confirm_sign_up(ClientId=app["ClientId"], Username=user, ConfirmationCode=code)
    u = s.admin.admin_get_user(UserPoolId=pool, Username=user)
    assert u["UserStatus"] == "CONFIRMED"
    assert attrs(u["UserAttributes"])["email_verified"] == "true"
    assert "AuthenticationResult" in password_auth(s.public, app["ClientId"], user)


def test_forgot_password_with_emailed_code(smtp_janus):
    s = smtp_janus
    pool = s.admin.create_user_pool(PoolName=unique("smtp"))["UserPool"]["Id"]
    app = make_app_client(s.admin, pool)
    address = f"{unique('fp')}@example.com"
    user = make_user(s.admin, pool, email=address, email_verified="true")
    seen = s.mailbox.count()
    r = s.public.forgot_password(ClientId=app["ClientId"], Username=user)
    assert r["CodeDeliveryDetails"]["Destination"] == f"{address[0]}***@e***"
    code = code_in(s.mailbox.wait_for(address, after=seen))
    s.public.confirm_forgot_password(ClientId=app["ClientId"], Username=user, ConfirmationCode=code,
                                     Password=NEW_PASSWORD)
    assert "AuthenticationResult" in password_auth(s.public, app["ClientId"], user, NEW_PASSWORD)
    with pytest.raises(Exception):
        password_auth(s.public, app["ClientId"], user, GOOD_PASSWORD)


def test_invitation_by_email(smtp_janus):
    # AdminCreateUser without a password emails the generated temporary password.
    s = smtp_janus
    pool = s.admin.create_user_pool(PoolName=unique("smtp"))["UserPool"]["Id"]
    app = make_app_client(s.admin, pool)
    user, address = unique("inv"), f"{unique('inv')}@example.com"
    seen = s.mailbox.count()
    s.admin.admin_create_user(UserPoolId=pool, Username=user, DesiredDeliveryMediums=["EMAIL"],
                              UserAttributes=attr_list(email=address))
    body = s.mailbox.wait_for(address, after=seen).body
    assert user in body
    temp = re.search(r"temporary password is (\S+)", body)
    assert temp, body
    r = password_auth(s.public, app["ClientId"], user, temp.group(1))
    assert r["ChallengeName"] == "NEW_PASSWORD_REQUIRED"


def test_sms_still_goes_to_outbox(smtp_janus):
    s = smtp_janus
    pool = s.admin.create_user_pool(PoolName=unique("smtp"),
                                    AutoVerifiedAttributes=["phone_number"])["UserPool"]["Id"]
    app = make_app_client(s.admin, pool)
    user = unique("sms")
    seen = s.mailbox.count()
    s.public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                     UserAttributes=attr_list(phone_number="+12065550199"))
    msg = s.outbox.last(pool, user)
    assert msg["medium"] == "SMS" and msg["destination"] == "+12065550199"
    s.public.confirm_sign_up(ClientId=app["ClientId"], Username=user,
                             ConfirmationCode=s.outbox.code(pool, user))
    assert s.mailbox.count() == seen


def test_a_pools_email_configuration_names_the_sender_and_reply_to(smtp_janus):
    s = smtp_janus
    sender, reply = "Example <no-reply@example.com>", "help@example.com"
    pool = s.admin.create_user_pool(PoolName=unique("smtp-from"), AutoVerifiedAttributes=["email"], EmailConfiguration={
        "EmailSendingAccount": "DEVELOPER", "From": sender, "ReplyToEmailAddress": reply,
        "SourceArn": "arn:aws:ses:us-east-1:123456789012:identity/example.com"})["UserPool"]["Id"]
    app = make_app_client(s.admin, pool)
    user, address = unique("mail"), f"{unique('to')}@example.com"
    seen = s.mailbox.count()
    s.public.sign_up(ClientId=app["ClientId"], Username=user, Password=GOOD_PASSWORD,
                     UserAttributes=attr_list(email=address))
    mail = s.mailbox.wait_for(address, after=seen)
    assert mail.message["From"] == sender
    assert mail.message["Reply-To"] == reply
