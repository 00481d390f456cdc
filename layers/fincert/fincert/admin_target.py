"""Which stack `fincert-admin` acts on, found without setup (docs/operations.md#finding-the-stack):

1. `--stack-name NAME`: a deployed stack, from its CloudFormation outputs (and parameters);
2. every setting already in the environment (TABLE_NAME, ...): the environment, as before;
3. the running local stack: the state file `make local` writes (`.local-stack/state.json`, found
   from the current directory upwards, or FINCERT_LOCAL_STATE); a variable set in the
   environment overrides the file's value.

Anything else is a one-line error saying what to do.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fincert.adapters.clients import AwsClients
from fincert.adapters.cloudformation import describe_stack
from fincert.errors import ConfigurationError
from fincert.settings import REQUIRED_VARIABLES, Settings, process_environment

STATE_FILE = Path(".local-stack") / "state.json"

# Setting -> (the stack output that holds it, the resource whose physical id it is). A stack
# deployed before an output existed still answers through its resource.
STACK_OUTPUTS: dict[str, tuple[str, str | None]] = {
    "TABLE_NAME": ("TableName", "FincertTable"),
    "ROOT_CA_KEY_ID": ("RootCaKeyId", "RootCaKey"),
    "ISSUING_CA_KEY_ID": ("IssuingCaKeyId", "IssuingCaKey"),
    "KEY_WRAP_KEY_ID": ("KeyWrapKeyId", "SubscriberKeyWrapKey"),
    "HMAC_KEY_ID": ("HmacKeyId", "IdentityHmacKey"),
    "PKI_BASE_URL": ("PkiBaseUrl", None),
    "CERTIFICATE_POLICY_OID": ("CertificatePolicyOid", None),
    "CONTENT_MAC_KEY_ID": ("ContentMacKeyId", "ContentMacKey"),
    "TSA_KEY_ID": ("TsaKeyId", "TsaKey"),
    "TSA_POLICY_OID": ("TsaPolicyOid", None),
}
# Settings that are template parameters: read from the stack's parameters when no output has them.
STACK_PARAMETERS = {
    "PKI_BASE_URL": "PkiBaseUrl",
    "CERTIFICATE_POLICY_OID": "CertificatePolicyOid",
    "TSA_POLICY_OID": "TsaPolicyOid",
}

NO_STACK = (
    "no stack found: start the local one (make local), name a deployed one (--stack-name STACK), "
    "or set " + ", ".join(REQUIRED_VARIABLES)
)


@dataclass(frozen=True)
class Target:
    description: str  # said on stderr, so the operator sees which stack a command changed
    settings: Settings
    clients: AwsClients | None  # None: the process's own (the environment's, or a test's)


def resolve(
    *,
    stack_name: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    state_file: Path | None = None,
    cwd: Path | None = None,
) -> Target:
    env = process_environment()
    if stack_name:
        return _deployed(stack_name, region, profile)
    if all(env.get(name) for name in REQUIRED_VARIABLES):
        return Target("the stack the environment names", Settings.from_env(env), None)
    found = state_file or _state_file(env, cwd or Path.cwd())
    if found is None:
        raise ConfigurationError(NO_STACK, code="no_stack")
    return _local(found, env)


def _state_file(env: Mapping[str, str], cwd: Path) -> Path | None:
    if env.get("FINCERT_LOCAL_STATE"):
        return Path(env["FINCERT_LOCAL_STATE"])
    for directory in (cwd, *cwd.parents, *_checkout()):
        if (directory / STATE_FILE).is_file():
            return directory / STATE_FILE
    return None


def _checkout() -> list[Path]:
    # In a checkout this file is layers/fincert/fincert/admin_target.py: an editable install run
    # from elsewhere still finds the checkout's local stack. Installed anywhere else, nothing.
    parents = Path(__file__).resolve().parents
    return [parents[3]] if len(parents) > 3 else []


def _local(path: Path, env: Mapping[str, str]) -> Target:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        discovered: dict[str, str] = dict(state["environment"])
        moto_url = str(state["moto_url"])
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path} not found: start the local stack (make local)", code="no_stack"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ConfigurationError(f"{path} is not a local stack's state file: {e}", code="no_stack") from None
    if not _answers(moto_url):
        raise ConfigurationError(
            f"the local stack of {path} is not running (nothing answers at {moto_url}): start it (make local)",
            code="no_stack",
        )
    merged = {**discovered, **{name: value for name, value in env.items() if value}}
    credentials = {
        "aws_access_key_id": merged.get("AWS_ACCESS_KEY_ID", "testing"),
        "aws_secret_access_key": merged.get("AWS_SECRET_ACCESS_KEY", "testing"),
        "aws_session_token": merged.get("AWS_SESSION_TOKEN", "testing"),
    }
    clients = AwsClients.for_operator(
        region=merged.get("AWS_REGION") or merged.get("AWS_DEFAULT_REGION") or state.get("region"),
        endpoint_url=merged.get("AWS_ENDPOINT_URL", moto_url),
        credentials=credentials,
    )
    return Target(f"the local stack ({path})", Settings.from_env(merged), clients)


def _answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=2):
            return True
    except OSError:
        return False


def _deployed(stack_name: str, region: str | None, profile: str | None) -> Target:
    clients = AwsClients.for_operator(region=region, profile=profile)
    stack = describe_stack(clients.cloudformation, stack_name)
    missing_outputs = [
        output for output, resource in STACK_OUTPUTS.values() if resource and output not in stack.outputs
    ]
    if missing_outputs:
        stack = describe_stack(clients.cloudformation, stack_name, with_resources=True)
    values: dict[str, str] = {}
    for name, (output, resource) in STACK_OUTPUTS.items():
        value = stack.outputs.get(output)
        if value is None and resource is not None:
            value = stack.resources.get(resource)
        if value is None and name in STACK_PARAMETERS:
            value = stack.parameters.get(STACK_PARAMETERS[name])
        if value:
            values[name] = value
    absent = [name for name in REQUIRED_VARIABLES if name not in values]
    if absent:
        wanted = ", ".join(STACK_OUTPUTS[name][0] for name in absent)
        raise ConfigurationError(f"stack {stack_name} has no output {wanted}", code="stack_outputs_missing")
    return Target(f"stack {stack_name} in {stack.region}", Settings.from_env(values), clients)
