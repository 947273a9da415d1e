"""A post authentication trigger: records the sign-in."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from record import record  # noqa: E402


def lambda_handler(event, context):
    record("postauth", event)
    return event
