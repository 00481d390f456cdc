"""Lambda SnapStart runtime hooks (docs/snapstart.md).

With SnapStart, Lambda runs a function version's initialisation once, snapshots the memory of
that environment, and starts every later environment of the version from the snapshot, for as
long as the version is invoked. So whatever the snapshot holds is shared by many environments,
restored minutes or days after it was taken. fincert.wiring registers these hooks when it is
imported, which every function that makes AWS calls does at init, with the runtime's
`snapshot_restore_py` (python3.12+ managed runtimes; without it registering does nothing). Only a
runtime that snapshots runs them, and the tests, which simulate one.

What must not be in the snapshot, or not survive a restore, is everything the composition root
(fincert.wiring.Services) holds, so both hooks drop it and the next request builds it again:

- AWS clients and their connection pools: a kept-alive TCP/TLS connection in the snapshot is a
  socket whose peer is long gone, and every restored copy would hold the same TLS state. New
  clients also resolve credentials after the restore, where Lambda provides them.
- Keys derived or decrypted through KMS: the content-MAC key (fincert.domain.content_macs) is the
  same in every copy, so sharing it would break no uniqueness, but a snapshot is stored (by
  Lambda, encrypted) while the version is in use and 14 days after, and such keys are to live in
  memory only (docs/design.md#assurance). The same for the decrypted OCSP responder key
  (fincert.domain.revocation_status).
- The CA and TSA certificates and the CRLs built so far: public and the same in every copy, so
  keeping them would be safe; they go with the rest of the root because one rule ("the root is
  rebuilt after a restore") is easier to keep true than a list of exceptions, and each costs one
  read at its first use.

Randomness: every secret, id, serial number and SMS code comes from `secrets`, that is the
kernel's getrandom, which restored copies do not share (docs/snapstart.md#randomness); the layer
draws nothing from `random`, and nothing runs OpenSSL's generator before the snapshot (no key
generation, no signature, no TLS at init). `random`'s shared generator is reseeded after a restore
all the same: botocore draws its retry jitter from it, and copies restored from one snapshot would
otherwise back off from a throttled table in step.

What is kept: the imported modules (most of a cold start), the settings, parsed from the
version's environment, which a restore does not change, and botocore's parsed service models and
endpoint rules (fincert.adapters.clients.prepare_session: a session with no client yet, so with no
credentials and no connection), which the first clients made after the restore are built from.
"""

from __future__ import annotations

import importlib
import random
from threading import Lock

_lock = Lock()
_registered = False
# What the API's functions call (SQS: the jobs' planners only, which have no SnapStart).
_SERVICES = ("dynamodb", "kms", "sns")


def before_snapshot() -> None:
    """Warm what every restored copy may share, and keep the composition root out of the snapshot."""
    from fincert import wiring
    from fincert.adapters.clients import prepare_session
    from fincert.settings import get_settings

    # A missing or malformed variable then raises while the version is published, not at a request.
    get_settings()
    prepare_session(_SERVICES)
    wiring.drop_services()


def after_restore() -> None:
    """Forget the composition root, should anything have built it since the snapshot was taken,
    and give this copy a generator state of its own for botocore's retry jitter."""
    from fincert import wiring

    wiring.drop_services()
    random.seed()  # from the kernel (os.urandom): not the snapshot's state


def register() -> bool:
    """Register the hooks with Lambda's runtime once; False where it has no SnapStart hooks.

    The runtime's module is looked up, not shipped in the layer: a second copy of it could be the
    one imported here, and the runtime would find nothing registered in its own."""
    global _registered
    with _lock:
        if _registered:
            return True
        try:
            hooks = importlib.import_module("snapshot_restore_py")
        except ImportError:
            return False
        hooks.register_before_snapshot(before_snapshot)
        hooks.register_after_restore(after_restore)
        _registered = True
        return True
