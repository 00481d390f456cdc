"""Daily auto-renewal (fincert.domain.renewal): `plan` runs on the EventBridge schedule and
enqueues what is due; `work` is triggered by the renewal queue."""

from fincert.scheduled import job_handlers

plan, work = job_handlers("renewal")
