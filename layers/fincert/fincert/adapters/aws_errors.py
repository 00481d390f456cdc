"""Turns AWS failures into domain errors, in one place for every adapter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)

from fincert.errors import ServiceUnavailable

# Refusals for the request rate (a metric counts KMS's).
_THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "RequestLimitExceeded", "LimitExceededException"}
)

# Failures a later retry may cure: throttling, capacity, the service's own faults.
_TRANSIENT_CODES = _THROTTLING_CODES | frozenset(
    {
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        # A single-item write to an item a transaction is writing (a retry overlapping the
        # first request's commit): the next try sees the transaction's outcome.
        "TransactionConflictException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
    }
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_throttling(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(error) in _THROTTLING_CODES or status == 429


def is_transient(error: ClientError) -> bool:
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(error) in _TRANSIENT_CODES or status == 429 or status >= 500


@contextmanager
def aws_call(service: str) -> Iterator[None]:
    """Wraps one AWS call: transient failures become ServiceUnavailable (503 + Retry-After);
    anything else propagates for the adapter to translate or to surface as a bug."""
    try:
        yield
    except ClientError as e:
        if is_transient(e):
            raise ServiceUnavailable(f"{service} is unavailable, retry later", retry_after=1) from e
        raise
    except BotoCoreError as e:  # connection errors, timeouts
        raise ServiceUnavailable(f"{service} is unreachable, retry later", retry_after=1) from e


def describe_failure(error: BaseException) -> str | None:
    """One line saying what went wrong with an AWS call, for the operator's CLI; None for
    anything that is not an AWS failure."""
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found: configure a profile (aws configure, AWS_PROFILE) or export keys"
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION"
    if isinstance(error, ProfileNotFound):
        return f"AWS profile not found: {error.kwargs.get('profile', '')}"
    if isinstance(error, EndpointConnectionError):
        return f"cannot reach {error.kwargs.get('endpoint_url', 'AWS')}"
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        return f"AWS refused {error.operation_name}: {error_code(error)}: {message}".rstrip(": ")
    if isinstance(error, BotoCoreError):
        return f"AWS call failed: {error}"
    return None
