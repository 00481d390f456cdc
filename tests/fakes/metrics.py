"""An in-memory Metrics implementing fincert.ports.Metrics, for domain unit tests: it records
what was counted and refuses what the catalogue does not allow, as the EMF adapter does."""

from __future__ import annotations

from collections import Counter

from fincert.domain.metrics import check


class FakeMetrics:
    def __init__(self) -> None:
        self.counted: list[tuple[str, int, dict[str, str]]] = []

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        check(name, dimensions)
        self.counted.append((name, value, dict(dimensions)))

    def totals(self) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
        """(name, sorted dimensions) -> the sum of its values."""
        totals: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()
        for name, value, dimensions in self.counted:
            totals[name, tuple(sorted(dimensions.items()))] += value
        return totals
