"""One HTTP call to the gateway with urllib: timeouts, and retries with
exponential backoff for the calls that may safely be repeated."""

import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.request

from .errors import ServerError, Timeout, TransportError, error_from_answer

# A Retry-After of a 503 is obeyed up to this many seconds between tries.
MAX_RETRY_WAIT = 5.0


class Transport:
    """Sends JSON requests to ``base_url`` with the API key.

    ``retries`` extra tries are made only for calls marked idempotent, and
    only when no answer came (timeout, connection refused or broken) or the
    answer was a 5xx; a 4xx is final.  Between tries it waits ``backoff``
    seconds, doubled each time, with jitter.  Safe to share between threads.
    """

    def __init__(self, base_url, api_key, timeout=5.0, retries=2, backoff=0.2):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = time.sleep  # replaced by tests

    def call(self, method, path, body=None, idempotent=False):
        """The answer's JSON object; raises a RealtimeError subclass otherwise."""
        tries = 1 + (self.retries if idempotent else 0)
        for attempt in range(tries):
            try:
                return self._send(method, path, body)
            except ServerError as err:
                failure = err
            except TransportError as err:
                failure = err
            if attempt + 1 == tries:
                raise failure
            self.sleep(self._wait(attempt, failure))
        raise AssertionError("unreachable")

    def _wait(self, attempt, failure):
        wait = self.backoff * (2 ** attempt) * random.uniform(0.5, 1.0)
        header = getattr(failure, "retry_after_header", None)
        if failure.status == 503 and header is not None:
            wait = max(wait, min(header, MAX_RETRY_WAIT))
        return wait

    def _request(self, method, path, body):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        return request

    def _send(self, method, path, body):
        request = self._request(method, path, body)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                data = answer.read()
        except urllib.error.HTTPError as answer:
            with answer:
                raise self._error(answer.code, answer.headers, answer.read()) from None
        except (TimeoutError, socket.timeout) as exc:
            raise Timeout(None, "timeout", f"{method} {path}: no answer within {self.timeout} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise Timeout(None, "timeout", f"{method} {path}: no answer within {self.timeout} s") from exc
            raise TransportError(None, "connection_failed", f"{method} {path}: {exc.reason}") from exc
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise TransportError(None, "connection_failed", f"{method} {path}: {exc}") from exc
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ServerError(200, "invalid_answer", f"{method} {path}: the answer is not JSON") from exc

    @staticmethod
    def _error(status, headers, data):
        err = error_from_answer(status, headers, data)
        try:
            err.retry_after_header = float(headers.get("Retry-After"))
        except (TypeError, ValueError):
            err.retry_after_header = None
        return err
