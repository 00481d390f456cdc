"""fincert_local.resources and LocalStack: template.yaml's table and keys, in moto."""

import json
import os
import threading
import time

import boto3
import pytest
import requests
from botocore.config import Config
from fincert_local.resources import create_resources
from fincert_local.stack import LocalStack, _SerializeDynamoDB
from fincert_local.template import load_template
from moto import mock_aws

REGION = "ap-northeast-2"


@pytest.fixture(scope="module")
def template():
    return load_template()


@pytest.fixture
def created(template):
    with mock_aws():
        yield create_resources(template, region=REGION)


def test_table_matches_the_template(created):
    table = boto3.client("dynamodb", region_name=REGION).describe_table(
        TableName=created.refs["FincertTable"]
    )
    table = table["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (due,) = [i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] == "due"]
    assert {k["AttributeName"]: k["KeyType"] for k in due["KeySchema"]} == {
        "due_pk": "HASH",
        "due_sk": "RANGE",
    }
    assert due["Projection"]["ProjectionType"] == "KEYS_ONLY"
    assert created.attrs[("FincertTable", "Arn")] == table["TableArn"]


def test_table_ttl_is_enabled(created):
    ttl = boto3.client("dynamodb", region_name=REGION).describe_time_to_live(
        TableName=created.refs["FincertTable"]
    )["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


@pytest.mark.parametrize(
    ("logical_id", "spec", "usage"),
    [
        ("RootCaKey", "RSA_2048", "SIGN_VERIFY"),
        ("IssuingCaKey", "RSA_2048", "SIGN_VERIFY"),
        ("SubscriberKeyWrapKey", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
        ("IdentityHmacKey", "HMAC_256", "GENERATE_VERIFY_MAC"),
        ("ContentMacKey", "HMAC_256", "GENERATE_VERIFY_MAC"),
    ],
)
def test_kms_keys_match_the_template(created, logical_id, spec, usage):
    kms = boto3.client("kms", region_name=REGION)
    metadata = kms.describe_key(KeyId=created.refs[logical_id])["KeyMetadata"]
    assert (metadata["KeySpec"], metadata["KeyUsage"]) == (spec, usage)
    assert metadata["Arn"] == created.attrs[(logical_id, "Arn")]
    assert metadata["Description"].startswith("fincert ")


def test_function_environment_resolves_to_created_resources(created):
    env = created.function_environment("EnrollmentFunction")
    assert env["TABLE_NAME"] == created.refs["FincertTable"]
    assert env["ISSUING_CA_KEY_ID"] == created.refs["IssuingCaKey"]
    assert env["HMAC_KEY_ID"] == created.refs["IdentityHmacKey"]
    assert env["CONTENT_MAC_KEY_ID"] == created.refs["ContentMacKey"]
    assert env["PKI_BASE_URL"] == "http://pki.fincert.example"  # the parameter's default
    # Only the jobs' functions set variables of their own: their queues.
    assert created.function_environment() == env | {
        "RENEWAL_QUEUE_URL": created.refs["RenewalQueue"],
        "PURGE_QUEUE_URL": created.refs["PurgeQueue"],
    }


@pytest.mark.parametrize(
    "queue, dead_letters",
    [("RenewalQueue", "RenewalDeadLetterQueue"), ("PurgeQueue", "PurgeDeadLetterQueue")],
)
def test_job_queues_redrive_to_their_dead_letter_queues(created, queue, dead_letters):
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = sqs.get_queue_attributes(QueueUrl=created.refs[queue], AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == created.attrs[(dead_letters, "Arn")]
    assert int(redrive["maxReceiveCount"]) == 5
    assert attributes["VisibilityTimeout"] == "1800"


def test_parameter_overrides_are_validated(template):
    with mock_aws():
        res = create_resources(template, region=REGION, parameter_overrides={"LogLevel": "DEBUG"})
        assert res.function_environment()["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
        with pytest.raises(ValueError, match="not in"):
            create_resources(template, region=REGION, parameter_overrides={"LogLevel": "LOUD"})
        with pytest.raises(ValueError, match="unknown"):
            create_resources(template, region=REGION, parameter_overrides={"Nope": "x"})


# --- LocalStack with a real moto server ----------------------------------------------------------


@pytest.fixture(scope="module")
def running_stack():
    def environ():
        return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}

    before = environ()
    with LocalStack() as running:
        yield running
    assert environ() == before  # stop() restores the environment it changed


@pytest.fixture
def stack(running_stack, monkeypatch):
    # The suite's autouse fixture scrubs AWS_* per test; give this test the stack's environment back.
    for name, value in running_stack.environment.items():
        monkeypatch.setenv(name, value)
    return running_stack


def test_stack_points_the_process_at_its_moto_server(stack):
    assert os.environ["AWS_ENDPOINT_URL"] == stack.moto_url
    assert os.environ["TABLE_NAME"] == stack.resources.refs["FincertTable"]
    assert os.environ["PKI_BASE_URL"] == stack.gateway_url
    tables = boto3.client("dynamodb").list_tables()["TableNames"]  # endpoint and region from the env
    assert stack.resources.refs["FincertTable"] in tables


def test_stack_gateway_answers_over_http(stack):
    response = requests.get(f"{stack.gateway_url}/no/such/route", timeout=10)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    response = requests.post(f"{stack.gateway_url}/v1/enrollments", timeout=10)  # no Authorization
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_stack_serialises_conditional_writes(stack):
    # moto alone lets concurrent conditional writes overtake each other; the stack must not.
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.moto_url,
        config=Config(max_pool_connections=50, retries={"mode": "standard"}),
    )
    table = stack.resources.refs["FincertTable"]
    for run in range(3):
        key = {"pk": {"S": f"counter#{run}"}, "sk": {"S": "c"}}
        dynamodb.put_item(TableName=table, Item={**key, "n": {"N": "0"}})
        barrier = threading.Barrier(50)
        outcomes = []

        def bump(key=key, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="ADD n :one",
                    ConditionExpression="n < :max",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":max": {"N": "5"}},
                )
                outcomes.append("ok")
            except dynamodb.exceptions.ConditionalCheckFailedException:
                outcomes.append("refused")

        threads = [threading.Thread(target=bump) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        assert item["n"] == {"N": "5"}
        assert sorted(outcomes).count("ok") == 5
        assert len(outcomes) == 50


def test_serialiser_admits_one_dynamodb_request_at_a_time():
    # Deterministic companion to the test above: moto's race window is narrow, so a passing
    # 50-thread run alone does not prove the lock is there.
    active, peak = {"DynamoDB": 0, "other": 0}, {"DynamoDB": 0, "other": 0}
    guard = threading.Lock()

    def app(environ, start_response):
        kind = "DynamoDB" if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_") else "other"
        with guard:
            active[kind] += 1
            peak[kind] = max(peak[kind], active[kind])
        time.sleep(0.02)
        with guard:
            active[kind] -= 1
        return [b""]

    serialised = _SerializeDynamoDB(app)
    targets = ["DynamoDB_20120810.UpdateItem"] * 8 + ["TrentService.Sign"] * 8
    threads = [threading.Thread(target=serialised, args=({"HTTP_X_AMZ_TARGET": t}, None)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak["DynamoDB"] == 1
    assert peak["other"] > 1  # everything else still runs concurrently
