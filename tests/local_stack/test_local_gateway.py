"""fincert_local.gateway: API Gateway (REST, proxy v1) behaviour, driven by a toy template and toy
handlers written here, so these tests do not depend on the real functions."""

import json
import socket
import textwrap
import threading

import boto3
import pytest
import requests
from fincert_local.gateway import MAX_BODY_BYTES, Gateway, policy_allows
from fincert_local.stack import LocalStack
from fincert_local.template import load_template

TOY_TEMPLATE = """\
Globals:
  Function:
    Timeout: 3
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      Auth:
        DefaultAuthorizer: Toy
        Authorizers:
          Toy:
            FunctionArn: !GetAtt AuthFn.Arn
            FunctionPayloadType: REQUEST
            Identity: {Headers: [Authorization], ReauthorizeEvery: 300}
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: 401
          ResponseTemplates: {application/json: '{"error": "unauthorized"}'}
        ACCESS_DENIED:
          StatusCode: 403
          ResponseTemplates: {application/json: '{"error": "forbidden"}'}
  AuthFn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fns/auth/, Handler: app.handler}
  EchoFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/echo/
      Handler: app.handler
      MemorySize: 512
      Events:
        Item: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/items/{item_id}", Method: get}}
        Files: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/files/{proxy+}", Method: any}}
        Public: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /public, Method: get, Auth: {Authorizer: NONE}}}
        Upload: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /upload, Method: post, Auth: {Authorizer: NONE}}}
        Boom: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /boom, Method: get, Auth: {Authorizer: NONE}}}
        Table: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /table, Method: get, Auth: {Authorizer: NONE}}}
        Current: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/current/{n}", Method: get, Auth: {Authorizer: NONE}}}
  PowertoolsFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/powertools/
      Handler: app.handler
      Events:
        Seen: {Type: Api, Properties: {RestApiId: !Ref Api, Path: "/seen/{n}", Method: get, Auth: {Authorizer: NONE}}}
"""

AUTH_HANDLER = """\
CALLS = []

def policy(effect, resource):
    statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
    return {"Version": "2012-10-17", "Statement": [statement]}

def handler(event, context):
    CALLS.append(event)
    token = event["headers"]["Authorization"]
    if token == "unauthorized":
        raise Exception("Unauthorized")
    if token == "crash":
        raise RuntimeError("authorizer bug")
    if token == "deny":
        return {"principalId": "u", "policyDocument": policy("Deny", event["methodArn"])}
    if token == "items-only":
        return {"principalId": "u", "policyDocument": policy("Allow", "arn:aws:execute-api:*:*:*/v1/GET/items/*")}
    context = {"tenant": "acme", "n": 3, "ok": True}
    return {"principalId": "user-1", "policyDocument": policy("Allow", event["methodArn"]), "context": context}
"""

ECHO_HANDLER = """\
import json
import socket
import os
import time

CURRENT = {}

def handler(event, context):
    if event["resource"] == "/current/{n}":
        # As Powertools' resolver does: the event kept in a module global for the request.
        CURRENT["event"] = event
        time.sleep(0.2)
        return {"statusCode": 200, "body": json.dumps([CURRENT["event"]["pathParameters"]["n"], __name__])}
    if event["resource"] == "/boom":
        raise RuntimeError("handler bug")
    if event["resource"] == "/upload":
        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
                "body": event["body"], "isBase64Encoded": event["isBase64Encoded"]}
    if event["resource"] == "/table":
        import boto3
        table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
        table.put_item(Item={"pk": "p", "v": "from moto"})
        item = table.get_item(Key={"pk": "p"})["Item"]
        return {"statusCode": 200, "body": json.dumps({"item": item, "pki": os.environ["PKI_BASE_URL"]})}
    seen = {"function_name": context.function_name, "memory": context.memory_limit_in_mb,
            "remaining_ms": context.get_remaining_time_in_millis(), "request_id": context.aws_request_id}
    return {"statusCode": 200, "multiValueHeaders": {"X-Seen": ["a", "b"]},
            "body": json.dumps({"event": event, "context": seen})}
"""


POWERTOOLS_HANDLER = """\
import time
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()

@app.get("/seen/<n>")
def seen(n):
    time.sleep(0.1)  # long enough for the other requests to be resolved meanwhile
    return {"asked": n, "seen": app.current_event.path_parameters["n"]}

def handler(event, context):
    return app.resolve(event, context)
"""


@pytest.fixture
def toy_root(tmp_path):
    (tmp_path / "template.yaml").write_text(TOY_TEMPLATE)
    for name, source in (("auth", AUTH_HANDLER), ("echo", ECHO_HANDLER), ("powertools", POWERTOOLS_HANDLER)):
        (tmp_path / "fns" / name).mkdir(parents=True)
        (tmp_path / "fns" / name / "app.py").write_text(textwrap.dedent(source))
    return tmp_path


@pytest.fixture
def gateway(toy_root):
    return Gateway(load_template(toy_root / "template.yaml"), toy_root)


def get(gateway, target, token=None, method="GET", body=b""):
    headers = [("Host", "localhost:3000"), ("User-Agent", "pytest")]
    if token:
        headers.append(("Authorization", token))
    return gateway.handle(method, target, headers, body)


def echoed(response):
    assert response.status == 200, response.body
    return response.json()["event"]


def authorizer_calls(gateway):
    return gateway.handler("AuthFn").__globals__["CALLS"]


def test_path_and_query_parameters(gateway):
    response = get(gateway, "/items/a%20b?x=1&x=2&q=hello+world&empty=", token="allow")
    event = echoed(response)
    assert event["resource"] == "/items/{item_id}"
    assert event["path"] == "/items/a%20b"  # REST APIs pass the raw path ...
    assert event["pathParameters"] == {"item_id": "a b"}  # ... and decoded parameters
    assert event["queryStringParameters"] == {"x": "2", "q": "hello world", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "q": ["hello world"], "empty": [""]}
    assert event["httpMethod"] == "GET"
    assert event["headers"]["Authorization"] == "allow"
    assert event["multiValueHeaders"]["User-Agent"] == ["pytest"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    ctx = event["requestContext"]
    assert (ctx["stage"], ctx["resourcePath"], ctx["httpMethod"]) == ("v1", "/items/{item_id}", "GET")
    assert ctx["path"] == "/v1/items/a%20b"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["requestId"] == response.header("x-amzn-RequestId")
    assert isinstance(ctx["requestTimeEpoch"], int)
    assert response.header("Content-Type") == "application/json"  # API Gateway's default
    assert [v for k, v in response.headers if k == "X-Seen"] == ["a", "b"]


def test_a_container_serves_one_event_at_a_time_and_parallel_requests_get_containers_of_their_own(gateway):
    # Handlers keep the current event in module globals (Powertools' resolver does), which is
    # safe on Lambda: a container gets one event at a time. The gateway's threads must not
    # interleave two requests in one container, or one customer is answered with another's event;
    # and, as Lambda scales out, parallel requests run in parallel, each in a container of its own.
    answers: dict[int, list] = {}

    def ask(n: int) -> None:
        answers[n] = json.loads(get(gateway, f"/current/{n}").body)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {n: answer[0] for n, answer in answers.items()} == {n: str(n) for n in range(6)}
    containers = {answer[1] for answer in answers.values()}
    assert len(containers) > 1, "the requests waited for one container instead of running in parallel"
    assert gateway.handler("EchoFn").__module__ in containers  # the first container is the one tests see


def test_parallel_requests_each_see_their_own_event_in_powertools(gateway):
    # Powertools keeps the event in flight in BaseRouter's class attributes, process-wide: fine on
    # Lambda (a process, one event at a time), wrong in the gateway's threads without
    # fincert_local.powertools_fixes, even with a container per request.
    answers: dict[int, dict] = {}

    def ask(n: int) -> None:
        answers[n] = json.loads(get(gateway, f"/seen/{n}").body)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answers[n] for n in range(6)] == [{"asked": str(n), "seen": str(n)} for n in range(6)]


def test_lambda_context(gateway):
    context = get(gateway, "/public").json()["context"]
    assert context["function_name"].endswith("EchoFn")
    assert context["memory"] == 512
    assert 0 < context["remaining_ms"] <= 3000  # Globals Timeout: 3


def test_greedy_proxy_and_any_method(gateway):
    event = echoed(get(gateway, "/files/a/b/c.txt", token="allow", method="DELETE"))
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["resource"] == "/files/{proxy+}"


def test_unauthorized_route_has_no_parameters_and_no_authorizer(gateway):
    event = echoed(get(gateway, "/public"))
    assert event["pathParameters"] is None
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert "authorizer" not in event["requestContext"]
    assert authorizer_calls(gateway) == []


def test_authorizer_context_reaches_the_handler_stringified(gateway):
    event = echoed(get(gateway, "/items/1", token="allow"))
    assert event["requestContext"]["authorizer"] == {
        "tenant": "acme",
        "n": "3",
        "ok": "true",
        "principalId": "user-1",
        "integrationLatency": 0,
    }
    (call,) = authorizer_calls(gateway)
    assert call["type"] == "REQUEST"
    assert call["methodArn"] == "arn:aws:execute-api:ap-northeast-2:123456789012:local/v1/GET/items/1"
    assert call["pathParameters"] == {"item_id": "1"}
    assert call["resource"] == "/items/{item_id}"


def test_missing_identity_header_is_401_without_calling_the_authorizer(gateway):
    response = get(gateway, "/items/1")
    assert (response.status, response.json()) == (401, {"error": "unauthorized"})
    assert authorizer_calls(gateway) == []


def test_authorizer_raising_unauthorized_is_401(gateway):
    response = get(gateway, "/items/1", token="unauthorized")
    assert (response.status, response.json()) == (401, {"error": "unauthorized"})


def test_authorizer_deny_is_403(gateway):
    response = get(gateway, "/items/1", token="deny")
    assert (response.status, response.json()) == (403, {"error": "forbidden"})


def test_authorizer_crash_is_500(gateway, capsys):
    response = get(gateway, "/items/1", token="crash")
    assert (response.status, response.json()) == (500, {"message": None})
    assert "authorizer bug" in capsys.readouterr().err


def test_cached_policy_is_checked_against_each_method_arn(gateway):
    assert get(gateway, "/items/1", token="items-only").status == 200
    assert get(gateway, "/items/2", token="items-only").status == 200
    assert get(gateway, "/files/x", token="items-only").status == 403  # the cached policy does not cover it
    assert len(authorizer_calls(gateway)) == 1  # ReauthorizeEvery: 300


def test_policy_wildcards():
    arn = "arn:aws:execute-api:ap-northeast-2:123456789012:local/v1/POST/v1/enrollments"
    allow_all = {
        "Statement": [{"Effect": "Allow", "Action": "execute-api:*", "Resource": "arn:aws:execute-api:*"}]
    }
    assert policy_allows(allow_all, arn)
    deny_post = {"Effect": "Deny", "Action": "*", "Resource": ["*/v1/POST/*"]}
    assert not policy_allows({"Statement": [*allow_all["Statement"], deny_post]}, arn)
    assert not policy_allows({"Statement": []}, arn)


def test_unknown_route_or_method_is_missing_authentication_token(gateway):
    for method, target in (("GET", "/nope"), ("POST", "/public"), ("GET", "/items"), ("GET", "/items/1/x")):
        response = get(gateway, target, token="allow", method=method)
        assert (response.status, response.json()) == (403, {"message": "Missing Authentication Token"}), (
            target
        )


def test_handler_exception_is_502_with_the_traceback_on_stderr(gateway, capsys):
    response = get(gateway, "/boom")
    assert (response.status, response.json()) == (502, {"message": "Internal server error"})
    assert "RuntimeError: handler bug" in capsys.readouterr().err


def test_binary_body_travels_base64(gateway):
    payload = bytes(range(256))
    response = get(gateway, "/upload", method="POST", body=payload)
    assert response.status == 200
    assert response.body == payload  # the handler echoed event["body"] with isBase64Encoded
    assert response.header("Content-Type") == "application/octet-stream"
    text = get(gateway, "/upload", method="POST", body="안녕".encode())
    assert text.body == "안녕".encode()


# --- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def served(toy_root):
    gateway = Gateway(load_template(toy_root / "template.yaml"), toy_root, max_body_bytes=1024)
    server = gateway.make_server("127.0.0.1", 0)
    # A short poll interval: shutdown() waits up to one for serve_forever() to notice (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_body_over_the_limit_is_413(served):
    assert MAX_BODY_BYTES == 10 * 1024 * 1024
    response = requests.post(f"{served}/upload", data=b"x" * 2048, timeout=10)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"}
    ok = requests.post(f"{served}/upload", data=b"x" * 1024, timeout=10)
    assert (ok.status_code, ok.content) == (200, b"x" * 1024)


def test_http_round_trip(served):
    response = requests.get(f"{served}/items/7?a=b", headers={"Authorization": "allow"}, timeout=10)
    assert response.status_code == 200
    event = response.json()["event"]
    assert event["pathParameters"] == {"item_id": "7"}
    assert event["headers"]["Authorization"] == "allow"
    assert event["requestContext"]["authorizer"]["principalId"] == "user-1"


def test_local_stack_serves_the_toy_template_against_moto(toy_root):
    with LocalStack(root=toy_root) as stack:
        response = requests.get(f"{stack.gateway_url}/table", timeout=10)
        assert response.status_code == 200, response.text
        assert response.json() == {"item": {"pk": "p", "v": "from moto"}, "pki": stack.gateway_url}

        sns = boto3.client("sns", endpoint_url=stack.moto_url)
        sns.publish(PhoneNumber="+821012345678", Message="code 111111")
        sns.publish(PhoneNumber="+821099999999", Message="someone else")
        sns.publish(PhoneNumber="+821012345678", Message="code 222222")
        sms = requests.get(f"{stack.gateway_url}/_local/sms", params={"phone": "+821012345678"}, timeout=10)
        assert sms.json() == {"messages": ["code 111111", "code 222222"]}  # newest last
        unencoded = requests.get(f"{stack.gateway_url}/_local/sms?phone=+821099999999", timeout=10)
        assert unencoded.json() == {"messages": ["someone else"]}


def test_invoke_calls_one_function_directly(gateway):
    event = {"resource": "/public", "nested": {"k": [1]}}
    result = gateway.invoke("EchoFn", event)
    assert json.loads(result["body"])["event"] == event


def test_invoke_needs_a_running_stack(tmp_path, capsys):
    from fincert_local.__main__ import main

    assert (
        main(["invoke", "EchoFn", str(tmp_path / "event.json"), "--state", str(tmp_path / "none.json")]) == 2
    )
    assert "start the local stack first" in capsys.readouterr().err


def test_taken_moto_port_fails_fast(toy_root):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="is in use"):
            LocalStack(root=toy_root, moto_port=taken.getsockname()[1]).start()
