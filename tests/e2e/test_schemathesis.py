"""Property test: schemathesis generates requests from docs/openapi.json and sends them to the local stack.

Every operation in the document (the bank API and the public /pki routes) gets positive and negative
requests; every response must pass schemathesis's checks: no 5xx, a documented status code, a
documented content type, a body matching the documented schema, auth not ignored, and so on.
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from tests.e2e.conftest import REPO, RunningStack

pytestmark = pytest.mark.e2e

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20240611,
        "generation": {
            "mode": "all",  # positive and negative data
            "max-examples": 50,
            "deterministic": True,  # Hypothesis derandomize: the same requests on every run
            "database": "none",  # nothing remembered between runs, so CI and laptops agree
        },
    }
)
schema = schemathesis.openapi.from_path(REPO / "docs" / "openapi.json", config=CONFIG)


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case, stack: RunningStack) -> None:
    case.call_and_validate(
        base_url=stack.url, headers={"Authorization": f"Bearer {stack.api_key}"}, timeout=30
    )
