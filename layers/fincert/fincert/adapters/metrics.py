"""CloudWatch metrics as Embedded Metric Format lines on stdout (Powertools Metrics): Lambda's
log stream carries them to CloudWatch Logs, which extracts the metrics; no API call, no latency.

One line per event (single_metric): each metric has its own dimensions, and nothing waits for a
flush at the end of the invocation that an exception could skip. Powertools' metrics module is
imported on the first event, not with the function: the functions that never count (the
authorizer, PKI, OCSP) do not pay for it at cold start."""

from __future__ import annotations

import logging
from typing import Any

from fincert.domain.metrics import SERVICE, SERVICE_DIMENSION, check

# The standard logger Powertools' Logger(service="fincert") writes through, not a Powertools
# Logger of its own: creating one at import would bind its handler to whatever stdout is then
# (the wiring imports this module early; fincert_local's run-job redirects stdout later).
logger = logging.getLogger("fincert")


class EmfMetrics:
    def __init__(self, namespace: str):
        self._namespace = namespace
        self._single_metric: Any = None

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        try:
            spec = check(name, dimensions)
            if value <= 0:
                return
            if self._single_metric is None:
                from aws_lambda_powertools.metrics import single_metric

                self._single_metric = single_metric
            with self._single_metric(
                name=name,
                unit=spec.unit,
                value=value,
                namespace=self._namespace,
                # Set here, not left to POWERTOOLS_SERVICE_NAME: the alarms name this exact set.
                default_dimensions={SERVICE_DIMENSION: SERVICE},
            ) as metric:
                for key, dimension in sorted(dimensions.items()):
                    metric.add_dimension(name=key, value=dimension)
        except Exception as e:
            # A metric is never worth a failed request; the name and the error type are safe
            # to log (check() never puts a dimension's value in its message).
            logger.warning("metric not written", extra={"metric": name, "error_type": type(e).__name__})
