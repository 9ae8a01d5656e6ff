"""Python client of the superbot-realtime gateway's server API (standard library only)."""

from .client import RealtimeClient, RealtimeToken
from .errors import (
    BadRequest,
    HeadersTooLarge,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RealtimeError,
    ServerError,
    SlowMode,
    Timeout,
    TooManyRequests,
    TransportError,
    Unauthorized,
    Unavailable,
    UnknownChannel,
)

__version__ = "0.1.0"

__all__ = [
    "BadRequest",
    "HeadersTooLarge",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "RealtimeClient",
    "RealtimeError",
    "RealtimeToken",
    "ServerError",
    "SlowMode",
    "Timeout",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "UnknownChannel",
]
