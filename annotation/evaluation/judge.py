"""LLM judge over any OpenAI-compatible chat-completions endpoint (stdlib HTTP only).

The paper's judge is Llama-3.3-70B-Instruct; any server answering
``POST {base_url}/chat/completions`` works (vLLM, TGI, llama.cpp, hosted APIs). Errors fall
in two kinds:

- ``JudgeUnavailableError`` — the endpoint cannot answer (connection refused, timeouts and 5xx
  after the retries, 4xx such as a bad key or model name). The metric is then unavailable.
- ``JudgeResponseError`` — the endpoint answered but the reply holds no readable score.
  ``caption_similarity`` turns that one into ``None`` (scored 0 and counted by the metrics).
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from annotation.evaluation.metrics import SimilarityUnavailableError

_TRANSPORT_ERRORS = (
    TimeoutError,
    urllib.error.URLError,
    ConnectionError,
    http.client.HTTPException,
)
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_BODY_EXCERPT = 300

CAPTION_SYSTEM_PROMPT = (
    "You grade video captions. You are given a reference caption written by a person and a "
    "caption predicted by a model for the same subject and the same stretch of video. Judge "
    "how much of the reference's information the prediction conveys correctly: the subject, "
    "the actions, their order, and details such as direction, objects and manner. Lower the "
    "score for information that is missing or wrong, more for errors that change the meaning. "
    "Do not lower it for different wording, and do not lower it for extra details unless they "
    "contradict the reference. 10 means everything in the reference is conveyed correctly; "
    "0 means nothing is. Answer with a JSON object only, no other text: "
    '{"score": <integer from 0 to 10>, "explanation": "<one short sentence>"}'
)


class JudgeError(Exception):
    pass


class JudgeUnavailableError(JudgeError, SimilarityUnavailableError):
    pass


class JudgeResponseError(JudgeError):
    pass


def caption_messages(reference: str, prediction: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": CAPTION_SYSTEM_PROMPT},
        {
            "role": "user",
            "content": (
                f"Reference caption: {reference}\n"
                f"Predicted caption: {prediction}\n"
                "Reply with the JSON object only."
            ),
        },
    ]


class JudgeClient:
    """Thread-safe: keeps no per-call state, so scoring may fan out over threads."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        *,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        max_tokens: int = 256,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"judge base_url must be an http(s) URL, got {base_url!r}")
        if not model:
            raise ValueError("judge model name is empty")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_tokens = max_tokens
        self._sleep = sleep

    def __repr__(self) -> str:  # never shows the key
        return f"JudgeClient(url={self.url!r}, model={self.model!r})"

    def score_caption(self, reference: str, prediction: str) -> float:
        """0 … 10. Raises JudgeUnavailableError or JudgeResponseError."""
        return parse_score(self.chat(caption_messages(reference, prediction)))

    def caption_similarity(self, reference: str, prediction: str) -> float | None:
        """0 … 1 for the metrics (``Similarity``); None when the reply could not be read."""
        try:
            return self.score_caption(reference, prediction) / 10.0
        except JudgeResponseError:
            return None

    def chat(self, messages: Sequence[dict[str, str]]) -> str:
        """One chat completion at temperature 0; returns the assistant message text."""
        payload = json.dumps(
            {
                "model": self.model,
                "messages": list(messages),
                "temperature": 0,
                "max_tokens": self.max_tokens,
            }
        ).encode()
        body = self._post(payload)
        try:
            reply = json.loads(body)
            content = reply["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise JudgeResponseError(
                f"judge reply is not a chat completion (no choices[0].message.content): "
                f"{_excerpt(body)}"
            ) from exc
        if not isinstance(content, str):
            raise JudgeResponseError(f"judge message content is not text: {content!r:.100}")
        return content

    def _post(self, payload: bytes) -> bytes:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        attempt = 0
        while True:
            request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return bytes(response.read())
            except urllib.error.HTTPError as exc:
                detail = _excerpt(exc.read())
                if exc.code not in RETRYABLE_STATUS:
                    raise JudgeUnavailableError(
                        f"judge at {self.url} refused the request: HTTP {exc.code}: {detail}"
                    ) from exc
                failure = f"HTTP {exc.code}: {detail}"
                retry_after = _retry_after(exc.headers.get("Retry-After"))
            except _TRANSPORT_ERRORS as exc:
                failure = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt >= self.max_retries:
                raise JudgeUnavailableError(
                    f"judge at {self.url} failed after {attempt + 1} attempts; last: {failure}"
                )
            delay = min(self.max_backoff_s, self.backoff_s * 2**attempt)
            if retry_after is not None:
                delay = min(self.max_backoff_s, max(delay, retry_after))
            self._sleep(delay)
            attempt += 1


def judge_from_config(
    base_url: str | None, model: str | None, api_key: str | None = None, timeout: float = 60.0
) -> JudgeClient | None:
    """None when no endpoint is configured; the judge-based metrics then report unavailable."""
    if not base_url or not model:
        return None
    return JudgeClient(base_url, model, api_key=api_key, timeout=timeout)


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)
_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)
_SCORE_FIELD = re.compile(r"""["']?score["']?\s*[:=]\s*["']?(-?\d+(?:\.\d+)?)""", re.IGNORECASE)


def parse_score(content: str) -> float:
    """The 0 … 10 score from a judge message: a JSON object with "score" (possibly fenced or
    surrounded by prose), or failing that a ``"score": N`` field in malformed JSON."""
    text = _FENCE.sub("", content.strip())
    candidates: list[Any] = []
    try:
        candidates.append(json.loads(text))
    except ValueError:
        for match in _OBJECT.finditer(text):
            try:
                candidates.append(json.loads(match.group(0)))
            except ValueError:
                continue
    for candidate in candidates:
        if isinstance(candidate, dict) and "score" in candidate:
            return _valid_score(candidate["score"], content)
    field = _SCORE_FIELD.search(text)
    if field is not None:
        return _valid_score(field.group(1), content)
    raise JudgeResponseError(f"judge reply holds no score: {_excerpt(content.encode())}")


def _valid_score(raw: Any, content: str) -> float:
    if isinstance(raw, bool):
        raise JudgeResponseError(f"judge score is not a number: {content!r:.200}")
    try:
        score = float(raw)
    except (TypeError, ValueError) as exc:
        raise JudgeResponseError(f"judge score is not a number: {content!r:.200}") from exc
    if not 0.0 <= score <= 10.0:
        raise JudgeResponseError(f"judge score {score} is outside 0..10: {content!r:.200}")
    return score


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; our own backoff is good enough


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    return text if len(text) <= _BODY_EXCERPT else text[:_BODY_EXCERPT] + "…"
