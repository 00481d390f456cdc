"""`python -m fincert_local.bench`: measure the performance budgets of docs/design.md on this machine.

1. Cold start per API function: in a fresh interpreter, importing the handler and serving its first
   request on its main success path (a signature, an issuance confirm ...), against the floor
   measured in the same run (a fresh interpreter importing boto3 and the cryptography modules the
   operation needs, making the same AWS calls with the same parameters and the same cryptographic
   operation). Budget: handler <= 1.5x floor.
2. AWS round trips per request on a warm container (botocore calls, the authorizer and SMS
   excluded). Budgets: the issuance confirm <= 8, CSC credentials/authorize and
   signatures/signHash <= 3 each.
3. Warm service CPU per signature (CSC authorize + signHash, POST /v1/signatures; RSA-2048 and
   EC P-256), botocore's time excluded, against the floor of the same run: loading the key
   without RSA re-validation and signing (+ the CMS and its evidence: the OCSP answer and the
   time-stamp token, whose KMS Sign is left out as on the service side). Budget: service <= 5x
   floor for RSA-2048; EC P-256 is reported beside it, without one.
4. The daily jobs' planners: DynamoDB items read to find what is due, per due item, with
   100,000 credentials of which 1% are due (--jobs-credentials). Budget: <= 1.2.
5. Cost per million operations (CSC signature, FinCert signature, connection, issued
   certificate) at ap-northeast-2 list prices (prices_ap_northeast_2.json, dated), from the calls
   the handlers made, the items' real sizes and the template's memory sizes. Budgets: $18, $12,
   -, $40 per million (SMS apart).

--only FIGURE[,FIGURE] runs some of them: cold-start, round-trips, signing-cpu, jobs, cost.

It is a measurement, not a gate: over budget prints OVER and still exits 0. It exits 1 only when
the measurement itself failed (a handler errored or answered with an error status).

Modules, one per figure and one per concern:
  budgets      every budget above (and ours), in one place
  context      the registered institution, tests/events fixtures, BenchContext
  children     ChildRunner: one side of a cold start in a fresh interpreter, running
  handler_child.py / floor_child.py, the two sides (scripts, not imported)
  main_paths   figure 1's table: each API function's main success path (MAIN_PATHS), each run's
               fresh state, what its floor redoes; CapturingGateway builds the events
  cold_start   figure 1: the targets from template.yaml, the measurement
  recording    botocore calls counted in process, by function
  round_trips  figure 2: WarmContainer and the scenarios (ROUND_TRIP_SCENARIOS)
  signing_cpu  figure 3: service CPU per signature and its floor, in process
  jobs         figure 4: the table loaded with the key schema, each planner fired
  cost         figure 5: calls, item sizes and durations observed, priced (prices_*.json)
  report       the printed sections and verdicts
  suite        the whole run against one moto server in this process
  cli          add_arguments / run / main

Adding a round-trip row: write a scenario `(WarmContainer) -> {request name: [Call, ...]}` in
round_trips, add it to ROUND_TRIP_SCENARIOS and its budget to budgets.ROUND_TRIP_BUDGETS. Adding
an API function: its main success path in main_paths.MAIN_PATHS (without one its row is an error).
"""

from fincert_local.bench.budgets import COLD_START_BUDGET, JOBS_BUDGET, ROUND_TRIP_BUDGETS, SIGNING_CPU_BUDGET
from fincert_local.bench.cli import add_arguments, main, run

__all__ = [
    "COLD_START_BUDGET",
    "JOBS_BUDGET",
    "ROUND_TRIP_BUDGETS",
    "SIGNING_CPU_BUDGET",
    "add_arguments",
    "main",
    "run",
]
