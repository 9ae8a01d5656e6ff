"""The errors of the gateway's answers, one class per family of error code.

Every class carries ``status`` (the HTTP status, ``None`` when no answer
came), ``code`` (the ``error`` field of the answer) and ``detail`` (a
sentence for people, when the gateway gave one).
"""

import json


class RealtimeError(Exception):
    """Any failure of a call to the gateway."""

    def __init__(self, status, code, detail=None, body=None):
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{where}: {code}" + (f" ({detail})" if detail else ""))


class BadRequest(RealtimeError):
    """400: invalid_json, invalid_body (see ``detail``), invalid_session_id, token_too_large."""


class Unauthorized(RealtimeError):
    """401: a missing or wrong API key (unauthorized, authentication_required)."""


class NotFound(RealtimeError):
    """404: no such path (not_found)."""


class UnknownChannel(NotFound):
    """404 unknown_channel: the channel was never registered with put_channel."""


class MethodNotAllowed(RealtimeError):
    """405: the path does not answer that method."""


class PayloadTooLarge(RealtimeError):
    """413: the request body is over the gateway's max_body_size."""


class HeadersTooLarge(RealtimeError):
    """431: the request headers are over the gateway's max_header_size."""


class TooManyRequests(RealtimeError):
    """429 with another code than slow_mode."""


class SlowMode(TooManyRequests):
    """429 slow_mode: the user must wait ``retry_after`` seconds (a float)."""

    def __init__(self, status, code, detail=None, body=None, retry_after=0.0):
        super().__init__(status, code, detail, body)
        self.retry_after = retry_after


class ServerError(RealtimeError):
    """5xx: internal, internal_error, or another server failure."""


class Unavailable(ServerError):
    """503 unavailable: the gateway's shared state did not answer; try again."""


class TransportError(RealtimeError):
    """No answer: the connection failed or broke (code connection_failed)."""


class Timeout(TransportError):
    """No answer within the client's timeout (code timeout)."""


_BY_STATUS = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
    429: TooManyRequests,
    431: HeadersTooLarge,
    503: Unavailable,
}

_BY_CODE = {
    "unknown_channel": UnknownChannel,
    "slow_mode": SlowMode,
}

# The code of an answer whose body is not the gateway's JSON (libevent
# answers requests far over the limits with an HTML page).
_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    503: "unavailable",
}


def _parse_body(data):
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def _retry_after(body, headers):
    value = body.get("retry_after") if body else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return float(headers.get("Retry-After", 0))
    except (TypeError, ValueError):
        return 0.0


def error_from_answer(status, headers, data):
    """The RealtimeError subclass instance for an error answer (status >= 400)."""
    body = _parse_body(data)
    code = body.get("error") if body else None
    if not isinstance(code, str):
        code = _DEFAULT_CODES.get(status, "server_error" if status >= 500 else "bad_request")
    detail = body.get("detail") if body else None
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else RealtimeError
    if cls is SlowMode:
        return SlowMode(status, code, detail, body, retry_after=_retry_after(body, headers))
    return cls(status, code, detail, body)
