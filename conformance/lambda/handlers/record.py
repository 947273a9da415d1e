"""Appends what a handler received to the file the tests read (JANUS_TEST_EVENTS)."""
import json
import os


def record(fn, event, found=None):
    """`found`: what the handler worked out (a decrypted code)."""
    with open(os.environ["JANUS_TEST_EVENTS"], "a") as f:
        f.write(json.dumps({"fn": fn, "event": event, "found": found}) + "\n")
