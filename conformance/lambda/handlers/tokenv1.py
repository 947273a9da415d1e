"""A V1_0 pre token generation trigger: a tenant claim, the email hidden, groups replaced,
and an attempt to change `sub` (which Cognito does not allow)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from record import record  # noqa: E402


def lambda_handler(event, context):
    record("tokenv1", event)
    event["response"]["claimsOverrideDetails"] = {
        "claimsToAddOrOverride": {"tenant": "acme", "sub": "forged"},
        "claimsToSuppress": ["email"],
        "groupOverrideDetails": {"groupsToOverride": ["from-lambda"]},
    }
    return event
