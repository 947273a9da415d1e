"""A custom SMS sender in Python, as users write it with the AWS Encryption SDK: the code is
decrypted with a strict KMS master key provider on the pool's key, then "sent" (recorded)."""
import base64
import os
import sys

import aws_encryption_sdk
from aws_encryption_sdk import CommitmentPolicy

sys.path.insert(0, os.path.dirname(__file__))
from record import record  # noqa: E402

client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[os.environ["KEY_ARN"]])


def lambda_handler(event, context):
    code = None
    if event["request"]["code"]:
        plaintext, header = client.decrypt(source=base64.b64decode(event["request"]["code"]), key_provider=provider)
        code = plaintext.decode()
    record("smssender", event, {"code": code})
