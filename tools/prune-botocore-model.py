#!/usr/bin/env python3
"""Write the Cognito user pools service model that janus-http embeds.

Source: botocore's `cognito-idp/2016-04-18/service-2.json.gz` (Apache-2.0), the authority for
every operation's shape. Documentation strings are dropped; everything else is kept as is.

    pip download botocore==1.44.8 --no-deps -d /tmp/bc && cd /tmp/bc && unzip -o *.whl
    python3 tools/prune-botocore-model.py /tmp/bc/botocore/data/cognito-idp/2016-04-18/service-2.json.gz
"""
import gzip
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/janus-http/model/cognito-idp.json"


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in ("documentation", "documentationUrl")}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main(src):
    model = json.load(gzip.open(src))
    OUT.write_text(json.dumps(strip(model), indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({len(model['operations'])} operations, {len(model['shapes'])} shapes)")


if __name__ == "__main__":
    main(sys.argv[1])
