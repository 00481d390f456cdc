"""The local gateway's HTTP framing (issue 11, defect 7), over raw sockets: a request whose body
length cannot be known (a Content-Length that is not a number, a bad chunk size), bytes left over
after a body that do not make a request, an over-long request line or header block: each gets a
clean answer, `{"message": "<reason phrase>"}` with `Connection: close`, and the connection is
closed; nothing is echoed back, nothing hangs, no traceback on stderr."""

from __future__ import annotations

import json
import socket
import textwrap
import threading

import pytest
from fincert_local.gateway import Gateway
from fincert_local.template import load_template

TEMPLATE = """\
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties: {StageName: v1}
  EchoFn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fns/echo/
      Handler: app.handler
      Events:
        Upload: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /upload, Method: post}}
        Public: {Type: Api, Properties: {RestApiId: !Ref Api, Path: /public, Method: get}}
"""
ECHO = """\
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},
            "body": event["body"] or "", "isBase64Encoded": event["isBase64Encoded"]}
"""
SECRET = b"pin=135790"  # what must never come back in an error page


@pytest.fixture
def address(tmp_path):
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "fns" / "echo").mkdir(parents=True)
    (tmp_path / "fns" / "echo" / "app.py").write_text(textwrap.dedent(ECHO))
    gateway = Gateway(load_template(tmp_path / "template.yaml"), tmp_path, max_body_bytes=1024)
    server = gateway.make_server("127.0.0.1", 0)
    # A short poll interval: shutdown() waits up to one for serve_forever() to notice (0.5 s by default).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server.server_address
    server.shutdown()
    server.server_close()


def exchange(address, raw: bytes, *, half_close: bool = False) -> bytes:
    """Send raw bytes, read until the server closes the connection (a hang fails the test)."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                pytest.fail(f"the connection was neither answered nor closed; got {received[:300]!r}")
            if not data:
                return received
            received += data


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split what the server sent into (status, headers, body), in order."""
    found = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, f"not an HTTP response: {raw[:300]!r}"
        status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
        assert status_line.startswith("HTTP/1."), f"no status line: {raw[:300]!r}"
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in header_lines)}
        length = int(headers["content-length"])
        found.append((int(status_line.split()[1]), headers, rest[:length]))
        raw = rest[length:]
    return found


def assert_clean_refusal(response, status: int = 400) -> None:
    code, headers, body = response
    assert code == status, (code, body)
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert set(json.loads(body)) == {"message"}
    assert SECRET not in body


def post(headers: str, body: bytes = b"") -> bytes:
    return f"POST /upload HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n".encode() + body


@pytest.mark.parametrize("length", ["ten", "-5", "+5", "0x10", "1e3", "", "5, 6", " 5 5", "٥"])
def test_a_content_length_that_is_not_a_number_is_400(address, capfd, length):
    raw = exchange(address, post(f"Content-Length: {length}\r\n", SECRET))
    [response] = responses(raw)
    assert_clean_refusal(response)
    assert capfd.readouterr().err == ""


def test_two_different_content_lengths_are_400(address, capfd):
    raw = exchange(address, post("Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!"))
    [response] = responses(raw)
    assert_clean_refusal(response)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the chunk's data
        b"5 5\r\nhello\r\n0\r\n\r\n",
    ],
)
def test_a_bad_chunk_is_400(address, capfd, chunks):
    raw = exchange(address, post("Transfer-Encoding: chunked\r\n", chunks))
    [response] = responses(raw)
    assert_clean_refusal(response)
    assert capfd.readouterr().err == ""


def test_a_transfer_coding_the_gateway_cannot_read_is_400(address, capfd):
    raw = exchange(address, post("Transfer-Encoding: gzip\r\n", SECRET))
    [response] = responses(raw)
    assert_clean_refusal(response)
    assert capfd.readouterr().err == ""


def test_a_body_shorter_than_its_content_length_is_400(address, capfd):
    raw = exchange(address, post("Content-Length: 100\r\n", SECRET), half_close=True)
    [response] = responses(raw)
    assert_clean_refusal(response)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("leftover", [SECRET, b"garbage here " + SECRET, b"GET /public", b"x y z w\r\n\r\n"])
def test_bytes_after_the_body_that_are_not_a_request_are_400(address, capfd, leftover):
    raw = exchange(address, post("Content-Length: 5\r\n", b"hello" + leftover + b"\r\n\r\n"))
    first, second = responses(raw)
    assert (first[0], first[2]) == (200, b"hello")
    assert_clean_refusal(second)
    assert capfd.readouterr().err == ""


def test_pipelined_requests_are_still_served(address):
    one = post("Content-Length: 5\r\n", b"hello")
    two = post("Content-Length: 5\r\nConnection: close\r\n", b"world")
    raw = exchange(address, one + two)
    assert [(s, b) for s, _, b in responses(raw)] == [(200, b"hello"), (200, b"world")]


def test_chunked_bodies_still_work(address):
    chunks = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    raw = exchange(address, post("Transfer-Encoding: chunked\r\nConnection: close\r\n", chunks))
    [(status, _, body)] = responses(raw)
    assert (status, body) == (200, b"hello world")


def test_an_over_long_request_line_is_414(address, capfd):
    # Longer than http.server's 64 KiB line limit, sent with the rest of a request.
    raw = exchange(address, b"GET /public?" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    [response] = responses(raw)
    assert_clean_refusal(response, 414)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    "header_block",
    [
        b"X-Long: " + b"a" * 70000 + b"\r\n",
        b"".join(b"X-Many-%d: x\r\n" % i for i in range(150)),
    ],
)
def test_an_over_long_header_block_is_431(address, capfd, header_block):
    raw = exchange(address, b"GET /public HTTP/1.1\r\nHost: x\r\n" + header_block + b"\r\n")
    [response] = responses(raw)
    assert_clean_refusal(response, 431)
    assert capfd.readouterr().err == ""


def test_a_request_line_without_a_version_is_400(address, capfd):
    raw = exchange(address, b"GET /public\r\n\r\n")
    [response] = responses(raw)
    assert_clean_refusal(response)
    assert capfd.readouterr().err == ""
