"""Every answer the suite receives, checked against botocore's model of its operation (issue 15):
a 200's JSON against the output shape — no member the shape does not have, every required
member present, types as modelled, enum values from the enum — and an error's code against the
operation's modelled error list. botocore itself ignores members it does not know and never
checks errors against the list, so a wrong answer would otherwise pass unseen.

Registered on boto3's default session by conftest.py, so every client made with `boto3.client`
is checked; a violation raises `ShapeViolation` in the call that received it."""

from __future__ import annotations

import json
import os

# JANUS_SHAPES_REPORT=FILE: write violations to FILE instead of failing (to survey them).
REPORT = os.environ.get("JANUS_SHAPES_REPORT")

# Errors any operation may answer: the AWS JSON protocol's common errors (not repeated in each
# operation's list) that Janus sends.
COMMON_ERRORS = {"InternalErrorException", "SerializationException", "UnrecognizedClientException",
                 "InvalidSignatureException", "MissingAuthenticationTokenException", "ThrottlingException",
                 "UnknownOperationException", "AccessDeniedException", "IncompleteSignatureException",
                 "RequestExpired", "ServiceUnavailableException"}

# Errors Cognito's documentation gives an operation beyond its model's list: (operation, code).
DOCUMENTED = {
    # AdminCreateUser, ForceAliasCreation: "If this parameter is set to False, the API throws
    # an AliasExistsException error if the alias already exists."
    ("AdminCreateUser", "AliasExistsException"),
}


class ShapeViolation(AssertionError):
    pass


def problems(value, shape, path: str) -> list[str]:
    """What is wrong with `value` as an instance of `shape` (empty: nothing)."""
    t = shape.type_name
    if t == "structure":
        if not isinstance(value, dict):
            return [f"{path}: a structure expected, got {type(value).__name__}"]
        out = [f"{path}.{k}: not a member of {shape.name}" for k in value if k not in shape.members]
        out += [f"{path}.{k}: required by {shape.name}, missing" for k in shape.required_members if k not in value]
        for k, v in value.items():
            if k in shape.members and v is not None:
                out += problems(v, shape.members[k], f"{path}.{k}")
        return out
    if t == "list":
        if not isinstance(value, list):
            return [f"{path}: a list expected, got {type(value).__name__}"]
        return [p for i, v in enumerate(value) for p in problems(v, shape.member, f"{path}[{i}]")]
    if t == "map":
        if not isinstance(value, dict):
            return [f"{path}: a map expected, got {type(value).__name__}"]
        return [p for k, v in value.items() for p in problems(k, shape.key, f"{path} key") + problems(v, shape.value, f"{path}[{k}]")]
    if t == "string":
        if not isinstance(value, str):
            return [f"{path}: a string expected, got {type(value).__name__}"]
        enum = shape.enum
        return [f"{path}: {value!r} is not one of {enum}"] if enum and value not in enum else []
    if t in ("integer", "long"):
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: an integer expected, got {value!r}"]
    if t in ("float", "double", "timestamp"):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: a number expected, got {value!r}"]
    if t == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: a boolean expected, got {value!r}"]
    if t == "blob":
        return [] if isinstance(value, str) else [f"{path}: base64 text expected, got {type(value).__name__}"]
    return []


def check(http_response, parsed, model, **_) -> None:
    """botocore's after-call hook."""
    if http_response is None:
        return
    name = model.name
    if http_response.status_code < 300:
        shape = model.output_shape
        if shape is None:
            return
        body = http_response.content or b"{}"
        found = problems(json.loads(body), shape, name)
    else:
        code = (parsed or {}).get("Error", {}).get("Code", "")
        modelled = {s.name for s in model.error_shapes}
        known = code in modelled or code in COMMON_ERRORS or (name, code) in DOCUMENTED
        found = [] if known else [
            f"{name}: answered {code}, which its model does not list ({sorted(modelled)})"]
    if found and REPORT:
        with open(REPORT, "a") as f:
            f.write("\n".join(found) + "\n")
    elif found:
        raise ShapeViolation("; ".join(found[:10]))


def install(session) -> None:
    """Check every cognito-idp answer received through clients of `session` (a boto3 Session)."""
    session.events.register("after-call.cognito-idp", check, unique_id="janus-conformance-shapes")
