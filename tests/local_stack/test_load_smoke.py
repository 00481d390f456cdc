"""`python -m fincert_local load`, short: four customers sign for 15 s against a stack it starts.

Fails on any 5xx or unanswered request, never on timing: the budgets (docs/design.md) are measured
by the command itself on a quiet machine (docs/benchmarks.md), not asserted by a shared test run."""

import json

from fincert_local import load


def test_four_customers_sign_for_15_seconds_without_a_5xx(tmp_path, capsys):
    out = tmp_path / "load.json"

    code = load.main(["--clients", "4", "--seconds", "15", "--floor-seconds", "3", "--json", str(out)])

    printed = capsys.readouterr()
    result = json.loads(out.read_text())
    assert result["errors_5xx"] == 0 and result["transport_errors"] == 0, printed.out
    assert code == 0, printed.out + printed.err
    assert result["signatures"] > 0 and result["errors"] == {}, printed.out
    assert result["latency_ms"]["p50"] > 0
    assert result["floor"]["per_second"] > 0 and result["ratio"] > 0
    # authorize + signHash: the authorizer's reads, the PIN check (KMS), the SAD, the key (KMS).
    calls = result["floor"]["calls"]
    assert "kms.VerifyMac" in calls and "dynamodb.TransactWriteItems" in calls, calls
    assert result["rss_mb"]["before"] and result["rss_mb"]["after"]
    assert "signatures" in printed.out and "floor" in printed.out


def test_customers_in_a_process_of_their_own_sign_too(tmp_path, capsys):
    out = tmp_path / "load.json"

    code = load.main(
        ["--clients", "2", "--seconds", "4", "--floor-seconds", "0", "--clients-process", "--json", str(out)]
    )

    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert code == 0 and result["errors_5xx"] == 0 and result["transport_errors"] == 0, printed
    assert result["clients_process"] and result["signatures"] > 0 and result["errors"] == {}, printed
    assert "a process of their own" in printed
