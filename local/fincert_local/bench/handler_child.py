# The handler side of a cold start, run as a script by a fresh interpreter (children.py):
#   python -P handler_child.py JOB.json RESULT.json
# Imports the function's handler module as the gateway does, serves the job's one event and
# records the AWS calls it makes (service, region, operation, parameters) so the floor can replay
# them, and the answer (status, body) so the parent can check it is a success. _t0 is the first statement (`time` is compiled into CPython, so taking it imports nothing
# from disk): interpreter startup is excluded, every import after it is included. Nothing from
# fincert_local may be imported here. The result goes to a file, because handlers log to stdout.
# ruff: noqa: E402

_perf = __import__("time").perf_counter
_t0 = _perf()
import importlib.util
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    job = json.load(f)
_calls = []


def _record(client_class):
    original = client_class._make_api_call

    def _make_api_call(self, operation_name, api_params):
        # A shallow copy: botocore fills idempotency tokens into the caller's dict afterwards.
        _calls.append(
            (self.meta.service_model.service_name, self.meta.region_name, operation_name, dict(api_params))
        )
        return original(self, operation_name, api_params)

    client_class._make_api_call = _make_api_call


class _PatchBotocoreOnImport:
    # Only if the handler has not imported botocore yet: patching then must not import it early.
    def find_spec(self, name, path, target=None):
        if name != "botocore.client":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        exec_module = spec.loader.exec_module

        def patched(module):
            exec_module(module)
            _record(module.BaseClient)

        spec.loader.exec_module = patched
        return spec


class _Context:
    def __init__(self, attributes):
        self.__dict__.update(attributes)

    def get_remaining_time_in_millis(self):
        return 15000


status, body, error, _t_import = None, None, None, None
try:
    spec = importlib.util.spec_from_file_location(job["module_name"], job["handler_file"])
    module = importlib.util.module_from_spec(spec)
    sys.modules[job["module_name"]] = module
    spec.loader.exec_module(module)
    handler = getattr(module, job["handler_attribute"])
    _t_import = _perf()
    if "botocore.client" in sys.modules:
        _record(sys.modules["botocore.client"].BaseClient)
    else:
        sys.meta_path.insert(0, _PatchBotocoreOnImport())
    result = handler(job["event"], _Context(job["context"]))
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
        # The parent checks the answer is the route's success and takes what the floor redoes
        # (the issued certificate, the token) from it.
        body = {"body": result.get("body"), "isBase64Encoded": bool(result.get("isBase64Encoded"))}
    elif isinstance(result, dict) and result.get("principalId"):
        status = "Allow" if '"Allow"' in json.dumps(result.get("policyDocument")) else "Deny"
    else:
        status = repr(result)[:200]
except BaseException as e:
    import traceback

    error = "".join(traceback.format_exception(e))
_t1 = _perf()

import base64


def _encode(value):
    raw = getattr(value, "value", value)  # boto3's dynamodb Binary wraps bytes
    if isinstance(raw, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(raw)).decode()}
    raise TypeError(f"cannot replay a parameter of type {type(value).__name__}")


calls = [{"service": s, "region": r, "operation": o, "params": p} for s, r, o, p in _calls]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(
        {
            "elapsed_s": _t1 - _t0,
            "import_s": (_t_import or _t1) - _t0,
            "status": status,
            "body": body,
            "error": error,
            "calls": calls,
        },
        f,
        default=_encode,
    )
sys.exit(1 if error else 0)
