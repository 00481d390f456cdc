"""One table of every error code (fincert.api.error_codes, rendered as docs/errors.md) that cannot
drift from the code: every code the source raises is in it with the status its class maps to,
every entry is raised somewhere, every code a client can get belongs to some operation of the
OpenAPI document, and the checked-in docs/errors.md is the rendering of the table."""

from __future__ import annotations

from fincert.api.error_codes import ERROR_CODES
from fincert_local.error_codes import raised_codes, render
from fincert_local.openapi import build_openapi
from fincert_local.operation_errors import OPERATION_ERRORS
from fincert_local.template import repo_root

# Answerable, yet no operation lists them: the categories' defaults (a more specific code is
# always given where the service knows one) and what only a bug or a broken deployment sends.
NOT_PER_OPERATION = {
    "invalid_request",
    "conflict",
    "gone",
    "rate_limited",
    "route_not_found",
    "internal_error",
    "configuration_error",
}


def test_every_raised_code_is_in_the_table_with_the_status_it_is_raised_with():
    raised = raised_codes()
    assert len(raised) > 100  # the reading found the codes, not nothing
    missing = sorted(set(raised) - set(ERROR_CODES))
    assert not missing, f"add them to fincert/api/error_codes.py: {missing}"
    wrong = {
        code: (sorted(s for s in statuses if s is not None), ERROR_CODES[code].statuses)
        for code, statuses in raised.items()
        if not {s for s in statuses if s is not None} <= set(ERROR_CODES[code].statuses)
    }
    assert not wrong, f"raised with (left) but documented as (right): {wrong}"


def test_every_entry_of_the_table_is_raised_somewhere():
    dead = sorted(set(ERROR_CODES) - set(raised_codes()))
    assert not dead, f"no code raises these any more; remove them or raise them: {dead}"


def test_the_reading_finds_each_way_a_code_is_raised(tmp_path):
    layer = tmp_path / "layers" / "fincert" / "fincert"
    layer.mkdir(parents=True)
    (tmp_path / "functions").mkdir()
    (layer / "new.py").write_text(
        "from fincert import errors\n"
        "def f(refusal=('brand_new_limit', 'slow down')):\n"
        "    raise errors.Gone('no', code='brand_new_gone')\n"
        "def g():\n"
        "    raise SignatureMalformed('brand_new_signature', 'bad')\n"
        "def h():\n"
        "    return error_response(418, 'brand_new_teapot', 'short and stout')\n",
        encoding="utf-8",
    )
    raised = raised_codes(tmp_path)
    assert raised["brand_new_gone"] == {410}
    assert raised["brand_new_limit"] == {429}
    assert raised["brand_new_signature"] == {400}
    assert raised["brand_new_teapot"] == {418}


def test_the_checked_in_errors_md_is_the_table():
    checked_in = (repo_root() / "docs" / "errors.md").read_text(encoding="utf-8")
    assert checked_in == render(), "run `make openapi` and commit docs/errors.md"
    for code in ERROR_CODES:
        assert f"| `{code}` |" in checked_in


def test_every_code_a_client_can_get_belongs_to_an_operation():
    listed = {code for codes in OPERATION_ERRORS.values() for code in codes}
    answerable = {code for code, entry in ERROR_CODES.items() if entry.audience == "api"}
    assert answerable - NOT_PER_OPERATION - listed == set()
    assert answerable >= NOT_PER_OPERATION


def test_each_operation_documents_its_codes_under_their_statuses():
    operation = build_openapi()["paths"]["/v1/enrollments/{enrollment_id}/confirm"]["post"]
    gone = operation["responses"]["410"]
    assert "`enrollment_expired`" in gone["description"]
    example = gone["content"]["application/json"]["examples"]["enrollment_expired"]["value"]
    assert example["error"]["code"] == "enrollment_expired"
    assert "`pin_sequential` (400)" in operation["description"]
    csc = build_openapi()["paths"]["/csc/v1/signatures/signHash"]["post"]["responses"]["400"]
    assert csc["content"]["application/json"]["examples"]["sad_expired"]["value"]["error"] == "sad_expired"
