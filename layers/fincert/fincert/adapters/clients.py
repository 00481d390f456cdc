"""Lazily created boto3 clients, one set per container. Nothing is created at import time:
moto must be active first in tests, and a client nobody uses should cost no cold start."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

# Standard mode retries throttling and transient errors with exponential backoff and jitter.
# Timeouts are short because API Gateway gives up after 29 s and a client retry is cheaper than
# a stuck Lambda.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


# A session fincert.snapstart prepares before a SnapStart snapshot: botocore's service models and
# endpoint rules already parsed (~60 ms of a restored copy's first request otherwise) and nothing
# else: no client, so no credentials (the first client resolves them, after the restore) and no
# connection. The first AwsClients made after the restore takes it.
_prepared: list[Any] = []


def prepare_session(services: Iterable[str]) -> None:
    core = botocore.session.get_session()
    loader = core.get_component("data_loader")
    for service in services:
        core.get_service_model(service)
        loader.load_service_model(service, "endpoint-rule-set-1")
    _prepared[:] = [boto3.session.Session(botocore_session=core)]


class AwsClients:
    def __init__(self, session: Any | None = None, config: Config = _CONFIG, endpoint_url: str | None = None):
        self._given_session = session
        self._config = config
        self._endpoint_url = endpoint_url  # None: botocore's own (AWS_ENDPOINT_URL, or AWS)

    @classmethod
    def for_operator(
        cls,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        credentials: dict[str, str] | None = None,
    ) -> AwsClients:
        """The operator CLI's clients: the default credential chain (or `profile`), or, for the
        local stack, the credentials and endpoint its state file names."""
        session = boto3.session.Session(region_name=region, profile_name=profile, **(credentials or {}))
        return cls(session=session, endpoint_url=endpoint_url)

    @cached_property
    def _session(self) -> Any:
        # One session for all clients: each new session reloads botocore's data files, which a
        # cold start pays for once per session.
        return self._given_session or (_prepared.pop() if _prepared else boto3.session.Session())

    def _client(self, service: str) -> Any:
        if self._endpoint_url:
            return self._session.client(service, config=self._config, endpoint_url=self._endpoint_url)
        return self._session.client(service, config=self._config)

    @cached_property
    def dynamodb(self) -> Any:
        return self._client("dynamodb")

    @cached_property
    def kms(self) -> Any:
        return self._client("kms")

    @cached_property
    def sns(self) -> Any:
        return self._client("sns")

    @cached_property
    def _sns_elsewhere(self) -> dict[str, Any]:
        return {}

    def sns_in(self, region: str) -> Any:
        """SNS in `region` ("" for this one's): SMS goes out where SNS sends it (SMS_REGION)."""
        if not region:
            return self.sns
        if region not in self._sns_elsewhere:
            self._sns_elsewhere[region] = self._session.client("sns", region_name=region, config=self._config)
        return self._sns_elsewhere[region]

    @cached_property
    def sqs(self) -> Any:
        return self._client("sqs")

    @cached_property
    def cloudformation(self) -> Any:
        return self._client("cloudformation")
