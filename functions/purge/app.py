"""Daily idle purge (fincert.domain.purge): `plan` runs on the EventBridge schedule and
enqueues what is due; `work` is triggered by the purge queue."""

from fincert.scheduled import job_handlers

plan, work = job_handlers("purge")
