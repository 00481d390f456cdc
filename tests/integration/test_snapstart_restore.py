"""A SnapStart restore, simulated in process (docs/snapstart.md): the hooks the layer registered
with `snapshot_restore_py` (the runtime's own library, pinned for the tests) are run as Lambda
runs them, the before-snapshot ones in reverse order of registration, then the after-restore ones
in order; then the customer goes on through the local gateway, against moto. Nothing here calls
fincert.snapstart's hooks directly: without their registration these tests fail."""

from __future__ import annotations

import os
import random

import pytest
import snapshot_restore_py
from fincert import snapstart
from fincert.adapters import clients as aws_clients
from fincert.errors import ConfigurationError
from fincert.settings import get_settings
from fincert.wiring import services

from tests.support.customers import Customer


@pytest.fixture(autouse=True)
def _no_prepared_session_left():
    # A session prepared before a simulated snapshot and never taken must not reach other tests.
    yield
    aws_clients._prepared.clear()


def _run_before_snapshot_hooks() -> None:
    for hook, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
        hook(*args, **kwargs)


def _run_after_restore_hooks() -> None:
    for hook, args, kwargs in snapshot_restore_py.get_after_restore():
        hook(*args, **kwargs)


def _registered(registry: list) -> list:
    return [hook for hook, _, _ in registry]


def test_importing_the_composition_root_registered_both_hooks():
    # fincert.wiring, imported by every function that makes AWS calls, registers them at init.
    assert snapstart.before_snapshot in _registered(snapshot_restore_py.get_before_snapshot())
    assert snapstart.after_restore in _registered(snapshot_restore_py.get_after_restore())


def test_a_restored_copy_builds_new_clients_and_keys_and_goes_on_serving(api):
    customer = Customer(api)
    customer.issue()
    customer.connect()
    assert customer.sign_content("before the snapshot", "cms_attached").status == 201
    before = services()
    clients, dynamodb, kms = before.clients, before.clients.dynamodb, before.clients.kms
    content_macs, revocation_status = before.content_macs, before.revocation_status
    settings = get_settings()

    _run_before_snapshot_hooks()
    # What the snapshot keeps of boto3: a session with botocore's data parsed, and no credentials.
    [prepared] = aws_clients._prepared
    assert prepared._session._credentials is None
    _run_after_restore_hooks()

    after = services()
    assert after is not before
    assert after.clients is not clients
    assert after.clients.dynamodb is not dynamodb
    assert after.clients.kms is not kms
    assert after.clients._session is prepared
    # The content-MAC key and the decrypted OCSP responder key are fetched from KMS again.
    assert after.content_macs is not content_macs
    assert after.revocation_status is not revocation_status
    # The settings are what was warmed: the version's environment does not change at a restore.
    assert get_settings() is settings

    # The same session signs again (PIN check, key decryption, time-stamp, OCSP evidence), and a
    # new customer is issued a certificate: every AWS call through the rebuilt clients.
    signed = customer.sign_content("after the restore", "cms_attached")
    assert signed.status == 201, signed.text
    newcomer = Customer(api)
    assert newcomer.issue()["serial_number"] != customer.issued["serial_number"]


def test_a_copy_built_since_the_snapshot_is_dropped_at_the_restore(api):
    # Whatever ran between the snapshot and the restore (nothing should) leaves no clients behind.
    _run_before_snapshot_hooks()
    built = services()
    dynamodb = built.clients.dynamodb

    _run_after_restore_hooks()

    assert services() is not built
    assert services().clients.dynamodb is not dynamodb
    assert Customer(api).issue()["status"] == "valid"


def test_each_restored_copy_reseeds_the_generator_botocore_jitters_with(api):
    # Two copies restored from one snapshot start with the same Mersenne Twister state: botocore's
    # standard retry mode draws its backoff jitter from `random`, so they would retry in step.
    _run_before_snapshot_hooks()
    snapshot_state = random.getstate()

    _run_after_restore_hooks()

    assert random.getstate() != snapshot_state


def test_a_version_with_a_bad_environment_fails_before_its_snapshot(aws, monkeypatch):
    # The settings are read before the snapshot: publishing fails, not the first customer's request.
    table_name = os.environ["TABLE_NAME"]
    monkeypatch.delenv("TABLE_NAME")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="TABLE_NAME"):
            _run_before_snapshot_hooks()
    finally:
        monkeypatch.setenv("TABLE_NAME", table_name)
        get_settings.cache_clear()
