"""The alarms template.yaml declares (docs/observability.md): what each watches, that every one
notifies the optional topic, and that the job-failure alarm sums every kind the domain counts."""

from __future__ import annotations

import pytest
from fincert.domain.metrics import CATALOGUE, ISSUANCE_REFUSED, JOB_KINDS, JOB_RESULTS
from fincert_local.template import load_template


@pytest.fixture(scope="module")
def resources() -> dict:
    return load_template()["Resources"]


def _alarms(resources: dict) -> dict[str, dict]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm"}


def test_the_alarms_watch_5xx_dead_letters_throttles_and_job_failures(resources):
    alarms = _alarms(resources)
    watched = {name: (p.get("Namespace"), p.get("MetricName")) for name, p in alarms.items()}
    assert watched["Api5xxAlarm"] == ("AWS/ApiGateway", "5XXError")
    assert watched["LambdaThrottlesAlarm"] == ("AWS/Lambda", "Throttles")
    dead_letters = {
        p["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for p in alarms.values()
        if p.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    queues = {k for k, v in resources.items() if v["Type"] == "AWS::SQS::Queue" and "DeadLetter" in k}
    assert queues == {"RenewalDeadLetterQueue", "PurgeDeadLetterQueue"}
    assert dead_letters == queues | set(_schedule_dead_letter_queues(resources).values())
    assert "JobFailuresAlarm" in alarms


def _schedule_dead_letter_queues(resources: dict) -> dict[str, str]:
    """function.event -> the DLQ SAM creates for that schedule (QueueLogicalId, named so the
    alarms can refer to it)."""
    found = {}
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "Schedule":
                config = event["Properties"].get("DeadLetterConfig") or {}
                found[f"{name}.{event_name}"] = config.get("QueueLogicalId")
    return found


def test_every_schedule_has_a_dead_letter_queue_an_alarm_watches(resources):
    """A schedule that cannot invoke its function (a permission lost, the function gone) does not
    fail anything: the run just does not happen, and its event goes to the schedule's DLQ."""
    queues = _schedule_dead_letter_queues(resources)
    assert set(queues) >= {"ReconcilerFunction.EveryTenMinutes", "RenewalPlannerFunction.Daily"}
    assert None not in queues.values(), queues
    watched = {
        p["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: p
        for p in _alarms(resources).values()
        if p.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    for schedule, queue in queues.items():
        assert queue in watched, schedule
        assert (watched[queue]["Threshold"], watched[queue]["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )


def test_the_job_failure_alarm_sums_every_kind_the_domain_counts(resources):
    metrics = _alarms(resources)["JobFailuresAlarm"]["Metrics"]
    stats = [m["MetricStat"]["Metric"] for m in metrics if "MetricStat" in m]
    assert {s["MetricName"] for s in stats} == {JOB_RESULTS}
    dimensions = [{d["Name"]: d["Value"] for d in s["Dimensions"]} for s in stats]
    assert sorted(d["Job"] for d in dimensions) == sorted(JOB_KINDS)
    assert all(d["Result"] == "failed" and d["service"] == "fincert" for d in dimensions)
    assert all(s["Namespace"] == {"Ref": "MetricsNamespace"} for s in stats)
    (expression,) = [m for m in metrics if "Expression" in m]
    assert expression["ReturnData"] is True
    assert len(metrics) <= 10  # CloudWatch's limit for one alarm


def test_the_first_issuance_refused_for_the_issuing_cas_end_alarms_on_every_channel(resources):
    alarm = _alarms(resources)["IssuingCaExpiringAlarm"]
    stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert {s["MetricName"] for s in stats} == {ISSUANCE_REFUSED}
    channels = sorted({d["Name"]: d["Value"] for d in s["Dimensions"]}["Channel"] for s in stats)
    assert channels == sorted(CATALOGUE[ISSUANCE_REFUSED].dimensions["Channel"])
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "SUM(METRICS())" and expression["ReturnData"] is True
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")


def test_every_alarm_notifies_the_topic_when_an_email_is_given(resources):
    for name, props in _alarms(resources).items():
        assert props["AlarmActions"] == {
            "Fn::If": ["AlarmEmailGiven", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]
        }, name
        assert props["TreatMissingData"] == "notBreaching", name
    assert resources["AlarmTopic"]["Condition"] == "AlarmEmailGiven"


def test_the_functions_get_the_metrics_namespace_from_a_parameter():
    template = load_template()
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert template["Parameters"]["MetricsNamespace"]["Default"] == "FinCert"
