"""Reading CloudWatch Embedded Metric Format lines back from captured stdout."""

from __future__ import annotations

import json
from collections import Counter


def emf_lines(stdout: str) -> list[dict]:
    """Every stdout line that is an EMF document (a JSON object with `_aws.CloudWatchMetrics`)."""
    found = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "CloudWatchMetrics" in document.get("_aws", {}):
            found.append(document)
    return found


def metric_totals(lines: list[dict], namespace: str) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    """(metric name, its dimensions as sorted (key, value) pairs) -> the sum of its values, for the
    metrics of `namespace`. Each must carry service=fincert, left out of the pairs."""
    totals: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
    for document in lines:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            if directive["Namespace"] != namespace:
                continue
            keys = sorted({key for dimension_set in directive["Dimensions"] for key in dimension_set})
            assert document.get("service") == "fincert" and "service" in keys, document
            keys.remove("service")
            dimensions = tuple((key, document[key]) for key in keys)
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                totals[metric["Name"], dimensions] += int(
                    sum(values if isinstance(values, list) else [values])
                )
    return totals
