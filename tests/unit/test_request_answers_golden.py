"""The golden master of the API's answers to bad (and good) requests (issue 12): every event of
tests/support/request_corpus.py, replayed through today's handlers, must get exactly the answer
recorded in tests/golden/request_answers.json: status, headers, body (parsed, and its exact text
by SHA-256). A change of router or validator that moves any 4xx answer fails here.

A request that gets past validation stops at a sentinel (503 `reached_handler`) before doing any
work, so the file also records which requests validation lets through.

Regenerate the file only when an answer is meant to change, and say why in the commit:

    FINCERT_WRITE_GOLDEN=1 pytest tests/unit/test_request_answers_golden.py

(with the PYTHONPATH of the README's test command); then read the diff: one line per request."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from typing import Any

import pytest
from fincert.settings import get_settings

from tests.support.request_corpus import (
    ENVIRONMENT,
    SENTINEL_CODE,
    Case,
    api_functions,
    corpus,
    error_code,
    golden_path,
    golden_text,
    operations,
    replay,
)

SHOWN_DIFFERENCES = 8


@pytest.fixture(scope="module")
def replayed() -> tuple[list[Case], dict[str, dict[str, Any]]]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in ENVIRONMENT.items():
            env.setenv(name, value)
        env.delenv("MAX_BODY_BYTES", raising=False)  # the default limit is the one recorded
        get_settings.cache_clear()
        try:
            cases = corpus()
            answers = {case.id: replay(case) for case in cases}
        finally:
            get_settings.cache_clear()
    if os.environ.get("FINCERT_WRITE_GOLDEN") == "1":
        golden_path().parent.mkdir(exist_ok=True)
        golden_path().write_text(golden_text(cases, answers))
    return cases, answers


@pytest.fixture(scope="module")
def recorded(replayed) -> dict[str, dict[str, Any]]:
    return json.loads(golden_path().read_text())


def test_the_corpus_is_the_recorded_one(replayed, recorded):
    cases, _ = replayed
    built = {case.id: case.summary for case in cases}
    missing, extra = sorted(recorded.keys() - built.keys()), sorted(built.keys() - recorded.keys())
    assert not missing and not extra, (
        f"the corpus drifted from the golden file: {len(missing)} recorded requests no longer built "
        f"(first: {missing[:3]}), {len(extra)} new ones (first: {extra[:3]}); regenerate only if meant"
    )
    changed = [case_id for case_id, summary in built.items() if recorded[case_id]["request"] != summary]
    assert not changed, (
        f"{len(changed)} requests are built differently from the recorded ones, first "
        f"{changed[0]}:\n  recorded {recorded[changed[0]]['request']}\n  built    {built[changed[0]]}"
    )


def test_every_request_gets_the_recorded_answer(replayed, recorded):
    cases, answers = replayed
    differences = [
        case for case in cases if case.id in recorded and recorded[case.id]["answer"] != answers[case.id]
    ]
    if differences:
        lines = [f"{len(differences)} of {len(cases)} answers differ from {golden_path().name}:"]
        for case in differences[:SHOWN_DIFFERENCES]:
            expected, got = recorded[case.id]["answer"], answers[case.id]
            request = {
                k: case.summary[k] for k in ("method", "path", "query", "content_type", "caller", "body")
            }
            note = ""
            if {k: v for k, v in expected.items() if k != "body_sha256"} == {
                k: v for k, v in got.items() if k != "body_sha256"
            }:
                note = " (the same JSON, different bytes: spacing or key order)"
            lines += [
                f"- {case.id}{note}",
                f"    sent     {json.dumps(request, ensure_ascii=False)}",
                f"    expected {json.dumps(expected, ensure_ascii=False, sort_keys=True)}",
                f"    got      {json.dumps(got, ensure_ascii=False, sort_keys=True)}",
            ]
        pytest.fail("\n".join(lines), pytrace=False)


def test_the_corpus_covers_every_operation_of_every_api_function():
    built = {case.id.split(":")[1] for case in corpus()}
    wanted = {op.key for op in operations()}
    assert wanted <= built
    assert {op.function_id for op in operations()} == set(api_functions())
    # The functions that route with create_app, hosted (static files, no router) apart.
    assert {f.removesuffix("Function") for f in api_functions()} >= {
        "Connection",
        "Csc",
        "Customer",
        "Enrollment",
        "Pki",
        "Signing",
        "Status",
        "Tsa",
        "Window",
    }


def test_the_corpus_exercises_validation(replayed):
    """Every operation that takes a body or parameters gets several schema refusals (422) and at
    least one request through to its handler; otherwise the oracle would not notice a validator
    that refuses everything, or lets everything through."""
    cases, answers = replayed
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    for case in cases:
        answer = answers[case.id]
        outcomes[case.id.split(":")[1]][error_code(answer) or str(answer.get("status"))] += 1
    for op in operations():
        counted = outcomes[op.key]
        # The valid request of each operation (for DER bodies, one of the right type) gets through.
        valid = next(
            answers[c.id] for c in cases if c.id.endswith((f"{op.key}:valid", f"{op.key}:der:valid-type"))
        )
        assert error_code(valid) == SENTINEL_CODE, (op.key, valid)
        assert counted[SENTINEL_CODE] >= 1, (op.key, counted)
        validated = op.body_schema is not None or any(p["in"] in {"path", "query"} for p in op.parameters)
        if validated and op.function_id not in {"PkiFunction", "TsaFunction"}:  # they validate nothing
            assert counted["validation_failed"] >= 3, (op.key, counted)
