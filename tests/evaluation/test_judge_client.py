"""The judge client against a real local HTTP server speaking the chat-completions protocol."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from annotation.evaluation.judge import (
    JudgeClient,
    JudgeResponseError,
    JudgeUnavailableError,
    judge_from_config,
    parse_score,
)
from annotation.evaluation.metrics import rcap_evaluate


@dataclass
class Reply:
    status: int = 200
    body: bytes | None = None
    content: str | None = None  # wrapped in a chat completion when body is None
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if self.body is not None:
            return self.body
        completion = {
            "id": "cmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.content}}],
        }
        return json.dumps(completion).encode()


@dataclass
class FakeChatServer:
    base_url: str
    replies: list[Reply]
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def chat_server() -> Iterator[FakeChatServer]:
    state = FakeChatServer(base_url="", replies=[])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            with lock:
                state.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": body}
                )
                reply = state.replies.pop(0) if state.replies else Reply(status=500, body=b"")
            time.sleep(reply.delay_s)
            payload = reply.payload()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(server: FakeChatServer, **kwargs) -> tuple[JudgeClient, Sleeps]:
    sleeps = Sleeps()
    options = {"api_key": "secret-key", "timeout": 5.0, "sleep": sleeps} | kwargs
    return JudgeClient(server.base_url, "llama-judge", **options), sleeps


def test_score_caption_sends_a_chat_completion_and_reads_the_score(chat_server):
    chat_server.replies = [Reply(content='{"score": 7, "explanation": "misses the cup"}')]
    client, sleeps = make_client(chat_server)

    score = client.score_caption("The man lifts a red cup.", "A man picks something up.")

    assert score == 7.0
    assert sleeps == []
    [request] = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer secret-key"
    assert request["json"]["model"] == "llama-judge"
    assert request["json"]["temperature"] == 0
    system, user = request["json"]["messages"]
    assert system["role"] == "system"
    assert "The man lifts a red cup." in user["content"]
    assert "A man picks something up." in user["content"]


def test_server_error_then_success_is_retried_with_backoff(chat_server):
    chat_server.replies = [
        Reply(status=500, body=b'{"error": "overloaded"}'),
        Reply(content='{"score": 8, "explanation": "ok"}'),
    ]
    client, sleeps = make_client(chat_server, backoff_s=0.5)

    assert client.score_caption("a", "b") == 8.0
    assert len(chat_server.requests) == 2
    assert sleeps == [0.5]


def test_rate_limit_honours_retry_after(chat_server):
    chat_server.replies = [
        Reply(status=429, body=b"slow down", headers={"Retry-After": "3"}),
        Reply(content='{"score": 2}'),
    ]
    client, sleeps = make_client(chat_server, backoff_s=0.5)

    assert client.score_caption("a", "b") == 2.0
    assert sleeps == [3.0]


def test_timeout_is_retried(chat_server):
    chat_server.replies = [
        Reply(content='{"score": 1}', delay_s=1.0),
        Reply(content='{"score": 9}'),
    ]
    client, sleeps = make_client(chat_server, timeout=0.2)

    assert client.score_caption("a", "b") == 9.0
    assert len(sleeps) == 1


def test_persistent_server_errors_end_in_unavailable(chat_server):
    chat_server.replies = [Reply(status=503, body=b"down")] * 3
    client, sleeps = make_client(chat_server, max_retries=2, backoff_s=1.0)

    with pytest.raises(JudgeUnavailableError, match=r"after 3 attempts; last: HTTP 503: down"):
        client.score_caption("a", "b")
    assert sleeps == [1.0, 2.0]


def test_client_error_is_not_retried(chat_server):
    chat_server.replies = [Reply(status=401, body=b'{"error": "bad key"}')]
    client, sleeps = make_client(chat_server)

    with pytest.raises(JudgeUnavailableError, match=r"HTTP 401: .*bad key"):
        client.score_caption("a", "b")
    assert len(chat_server.requests) == 1
    assert sleeps == []


def test_garbage_body_is_a_clear_response_error(chat_server):
    chat_server.replies = [Reply(body=b"<html>proxy error</html>")]
    client, _ = make_client(chat_server)

    with pytest.raises(JudgeResponseError, match=r"not a chat completion.*proxy error"):
        client.score_caption("a", "b")


def test_reply_without_a_score_is_a_clear_response_error(chat_server):
    chat_server.replies = [Reply(content="I'd say the captions are fairly similar.")]
    client, _ = make_client(chat_server)

    with pytest.raises(JudgeResponseError, match="holds no score"):
        client.score_caption("a", "b")


def test_caption_similarity_turns_an_unreadable_reply_into_none(chat_server):
    chat_server.replies = [Reply(content="no idea"), Reply(content='{"score": 6}')]
    client, _ = make_client(chat_server)

    assert client.caption_similarity("a", "b") is None
    assert client.caption_similarity("a", "b") == pytest.approx(0.6)


def test_unreachable_judge_is_unavailable():
    sleeps = Sleeps()
    client = JudgeClient("http://127.0.0.1:9/v1", "m", timeout=1.0, max_retries=1, sleep=sleeps)

    with pytest.raises(JudgeUnavailableError, match="after 2 attempts"):
        client.score_caption("a", "b")
    assert sleeps == [1.0]


def test_rcap_over_the_wire_and_a_judge_outage_reports_unavailable(chat_server):
    chat_server.replies = [Reply(content='{"score": 10}'), Reply(content='{"score": 5}')]
    client, _ = make_client(chat_server, max_retries=0)

    ok = rcap_evaluate([("a", "a"), ("b", "c")], similarity=client.caption_similarity)
    # The queue is empty now: the fake server answers 500, the client gives up at once.
    down = rcap_evaluate([("a", "a")], similarity=client.caption_similarity)

    assert ok.value == pytest.approx(0.75)
    assert down.value is None
    assert "HTTP 500" in down.unavailable_reason


def test_no_endpoint_configured_means_no_judge():
    assert judge_from_config(None, "llama") is None
    assert judge_from_config("http://judge/v1", "") is None
    assert isinstance(judge_from_config("http://judge/v1", "llama"), JudgeClient)


def test_client_repr_hides_the_api_key():
    client = JudgeClient("http://judge/v1", "llama", api_key="sk-123")

    assert "sk-123" not in repr(client)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"score": 7, "explanation": "x"}', 7.0),
        ('```json\n{"score": 4, "explanation": "x"}\n```', 4.0),
        ('Here is my verdict: {"score": 3, "explanation": "x"} Thanks.', 3.0),
        ('{"score": "8", "explanation": "x"}', 8.0),
        ('{"score": 9, "explanation": "unterminated', 9.0),
        ("Score: 0", 0.0),
    ],
)
def test_parse_score_accepts_json_and_near_json(content, expected):
    assert parse_score(content) == expected


@pytest.mark.parametrize(
    "content",
    ['{"score": 11}', '{"score": -1}', '{"score": "high"}', '{"score": true}', "", "ten"],
)
def test_parse_score_refuses_bad_scores(content):
    with pytest.raises(JudgeResponseError):
        parse_score(content)
