"""The whole local stack in one process: moto's server, template.yaml's resources, the gateway."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import requests
from moto.server import ThreadedMotoServer

from fincert_local import moto_fixes
from fincert_local.gateway import Gateway
from fincert_local.resources import LocalResources, create_resources
from fincert_local.template import load_template, repo_root


class PortInUse(OSError):
    """A port the stack was told to use is taken; says which, and the make variable that moves it."""

    def __init__(self, what: str, host: str, port: int, variable: str):
        self.port = port
        self.variable = variable
        super().__init__(
            f"{what}'s port {host}:{port} is in use (another `make local`?): stop what holds it, "
            f"or choose another port: make local {variable}={port + 1}"
        )


class _SerializeDynamoDB:
    """WSGI middleware letting one DynamoDB request at a time into moto.

    moto evaluates a DynamoDB ConditionExpression and applies the write as two separate steps without
    a lock, so concurrent conditional writes can both pass their condition: parallel
    "ADD n :1 IF n < 5" left n at 6 or 7 in about one run in eight (100 threads). Real DynamoDB makes each conditional write atomic, and the
    service's invariants (PIN failure counters, one-shot SADs, device limits) rely on that, so the
    concurrency tests need a moto that keeps the promise. Serialising requests is enough: DynamoDB
    guarantees nothing more per item. This exists only here, never in production code.
    """

    def __init__(self, app: Any):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                return self.app(environ, start_response)
        return self.app(environ, start_response)


class LocalStack:
    def __init__(
        self,
        host: str = "127.0.0.1",
        moto_port: int = 0,
        gateway_port: int = 0,
        region: str = "ap-northeast-2",
        serialize_dynamodb: bool = True,
        *,
        root: Path | str | None = None,
        template_path: Path | str | None = None,
        parameter_overrides: dict[str, str] | None = None,
        authorizer_cache: bool = True,
        moto_corrections: bool = True,
        ttl_sweep_seconds: float | None = 10.0,
    ):
        """Ports 0 pick free ports. `root` (where CodeUri paths start) and `template_path` default
        to this checkout; tests point them at a toy template.

        `moto_corrections` applies fincert_local.moto_fixes to this process (moto's server thread
        and the in-process handlers share it), the same corrections the tests run with; False
        leaves moto as it is (to measure what they change), but cannot undo corrections something
        else in the process applied. `ttl_sweep_seconds` runs a TtlSweeper at that interval
        (None: items never expire, as in plain moto)."""
        self.host = host
        self.moto_port = moto_port
        self.gateway_port = gateway_port
        self.region = region
        self.serialize_dynamodb = serialize_dynamodb
        self.root = Path(root) if root is not None else repo_root()
        self.template_path = Path(template_path) if template_path is not None else self.root / "template.yaml"
        self.parameter_overrides = parameter_overrides
        self.authorizer_cache = authorizer_cache
        self.moto_corrections = moto_corrections
        self.ttl_sweep_seconds = ttl_sweep_seconds
        self.ttl_sweeper: moto_fixes.TtlSweeper | None = None
        self._serializer: _SerializeDynamoDB | None = None
        self.moto_url = ""
        self.gateway_url = ""
        self.environment: dict[str, str] = {}  # everything start() put in os.environ
        self.resources: LocalResources | None = None
        self.gateway: Gateway | None = None
        self._moto: ThreadedMotoServer | None = None
        self._http = None
        self._http_thread: threading.Thread | None = None
        self._saved_environ: dict[str, str | None] = {}

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        if self.moto_port:
            # ThreadedMotoServer waits forever for a server thread that died on a taken port (5000 is
            # macOS's AirPlay receiver), so fail early and say why.
            with socket.socket() as probe:
                try:
                    probe.bind((self.host, self.moto_port))
                except OSError as e:
                    raise PortInUse("moto", self.host, self.moto_port, "MOTO_PORT") from e
        if self.moto_corrections:
            moto_fixes.apply_all()  # before the server serves anything
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.moto_port, verbose=False)
        self._moto.start()
        if self.serialize_dynamodb:
            # No public hook for wrapping the WSGI app; werkzeug's server reads `.app` per request.
            self._serializer = _SerializeDynamoDB(self._moto._server.app)
            self._moto._server.app = self._serializer
        host, port = self._moto.get_host_and_port()
        self.moto_url = f"http://{host}:{port}"
        # The moto server shares this process's moto backends: start from an empty account.
        requests.post(f"{self.moto_url}/moto-api/reset", timeout=10).raise_for_status()
        self._set_environ(
            {
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,  # what Lambda sets
            }
        )

        template = load_template(self.template_path)
        self.gateway = Gateway(
            template, self.root, region=self.region, authorizer_cache=self.authorizer_cache
        )
        try:
            self._http = self.gateway.make_server(self.host, self.gateway_port)  # bound now: the URL is known
        except OSError as e:
            raise PortInUse("the gateway", self.host, self.gateway_port, "PORT") from e
        self.gateway_url = f"http://{self.host}:{self._http.server_address[1]}"
        self.resources = create_resources(
            template, region=self.region, parameter_overrides=self.parameter_overrides
        )
        # Certificates must point relying parties at this gateway's /pki routes.
        self._set_environ({**self.resources.function_environment(), "PKI_BASE_URL": self.gateway_url})
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, name="fincert-gateway", daemon=True
        )
        self._http_thread.start()
        if self.ttl_sweep_seconds is not None:
            # Under the DynamoDB lock, so a sweep never interleaves with a request.
            lock = self._serializer.lock if self._serializer is not None else None
            self.ttl_sweeper = moto_fixes.TtlSweeper(lock=lock, interval=self.ttl_sweep_seconds).start()

    def _set_environ(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_environ.setdefault(name, os.environ.get(name))
            os.environ[name] = value
            self.environment[name] = value

    def stop(self) -> None:
        if self.ttl_sweeper is not None:
            self.ttl_sweeper.stop()
            self.ttl_sweeper = None
        if self._http is not None:
            if self._http_thread is not None:  # shutdown() waits for a serve_forever() to end
                self._http.shutdown()
                self._http_thread = None
            self._http.server_close()
            self._http = None
        if self._moto is not None:
            if self._moto._server is not None:
                self._moto.stop()
                self._moto._server.server_close()
            self._moto = None
        for name, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environ.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
