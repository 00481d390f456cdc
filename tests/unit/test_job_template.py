"""template.yaml gives each daily job what issue 4 asks of it: a daily schedule with a failure
destination, a queue with a dead-letter queue, a worker reporting failures per message."""

import pytest
from fincert_local.jobs import JOBS
from fincert_local.template import functions, load_template

TEMPLATE = load_template()


def _events(function_id: str) -> dict:
    return TEMPLATE["Resources"][function_id]["Properties"]["Events"]


@pytest.mark.parametrize("job", sorted(JOBS))
def test_each_job_is_a_daily_planner_with_a_dead_letter_queue(job):
    [schedule] = _events(JOBS[job].planner).values()
    assert schedule["Type"] == "Schedule"
    assert (
        schedule["Properties"]["Schedule"].startswith("cron(")
        and "* * ? *" in schedule["Properties"]["Schedule"]
    )
    assert schedule["Properties"]["DeadLetterConfig"]["Type"] == "SQS"


@pytest.mark.parametrize("job", sorted(JOBS))
def test_each_worker_reports_failures_per_message_and_its_queue_redrives_to_a_dlq(job):
    [trigger] = _events(JOBS[job].worker).values()
    assert trigger["Type"] == "SQS"
    assert trigger["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_id = trigger["Properties"]["Queue"]["Fn::GetAtt"][0]
    queue = TEMPLATE["Resources"][queue_id]["Properties"]
    dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert TEMPLATE["Resources"][dlq_id]["Type"] == "AWS::SQS::Queue"
    # AWS's advice: a visibility timeout of six times the function's, or batches run twice.
    assert queue["VisibilityTimeout"] >= 6 * functions(TEMPLATE)[JOBS[job].worker].timeout
    # Planner and worker share the queue the planner fills.
    planner_env = TEMPLATE["Resources"][JOBS[job].planner]["Properties"]["Environment"]["Variables"]
    assert planner_env[JOBS[job].queue_url_variable] == {"Ref": queue_id}
