# The floor of a cold start, run as a script by a fresh interpreter (children.py):
#   python -P floor_child.py CALLS.json RESULT.json
# Imports boto3, creates the same clients and replays the handler's AWS calls with the same
# parameters. _t0 is the first statement, as in handler_child.py. Nothing from fincert_local may
# be imported here.
# ruff: noqa: E402

_perf = __import__("time").perf_counter
_t0 = _perf()
import base64
import json
import sys


def _decode(obj):
    return base64.b64decode(obj["__bytes__"]) if set(obj) == {"__bytes__"} else obj


with open(sys.argv[1], encoding="utf-8") as f:
    calls = json.load(f, object_hook=_decode)
import boto3
from botocore.exceptions import ClientError

_t_import = _perf()
session = boto3.session.Session()
clients = {}
failed = []
for call in calls:
    key = (call["service"], call["region"])
    if key not in clients:
        clients[key] = session.client(call["service"], region_name=call["region"])
    try:
        clients[key]._make_api_call(call["operation"], call["params"])
    except ClientError as e:
        # Replaying a write meets its own condition (the item exists now): still one round trip.
        failed.append(e.response["Error"]["Code"])
_t1 = _perf()
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"elapsed_s": _t1 - _t0, "import_s": _t_import - _t0, "failed": failed}, f)
