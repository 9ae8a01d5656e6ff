"""RealtimeClient: the server API of superbot-realtime for the app's backend."""

from urllib.parse import quote

from .transport import Transport


class RealtimeToken(str):
    """A realtime token (the string itself), with ``expires_in`` seconds."""

    def __new__(cls, token, expires_in):
        value = super().__new__(cls, token)
        value.expires_in = expires_in
        return value


def _segment(value):
    return quote(str(value), safe="")


class RealtimeClient:
    """Calls the gateway at ``base_url`` with ``api_key`` (its REALTIME_API_KEY).

    Each call waits at most ``timeout`` seconds for the connection and for
    each read.  Calls that may be repeated safely (``issue_token``,
    ``put_channel``, ``presence``, ``revoke_session``, ``add_membership``,
    ``remove_membership``) are tried up to
    ``retries`` more times when no answer came or the gateway answered 5xx;
    ``publish`` and ``reserve_channel_message_slot`` are tried once, since
    a repeat could send an event twice or spend a slot.  Every error raises
    a subclass of ``RealtimeError``.  One client may serve many threads.
    """

    def __init__(self, base_url, api_key, timeout=5.0, retries=2, backoff=0.2):
        self._transport = Transport(base_url, api_key, timeout=timeout, retries=retries, backoff=backoff)

    def __repr__(self):
        return f"RealtimeClient({self._transport.base_url!r})"

    def issue_token(self, user_id, servers=(), session_id=None, moderates=()):
        """A realtime token for ``user_id``, a member of ``servers``.

        ``session_id`` lets ``revoke_session`` end the user's sockets later;
        ``moderates`` lists the servers where the user skips slow mode.
        Returns a ``RealtimeToken`` (a str with ``.expires_in``).
        """
        body = {"user_id": str(user_id), "servers": [str(s) for s in servers]}
        if session_id is not None:
            body["session_id"] = str(session_id)
        if moderates:
            body["moderates"] = [str(s) for s in moderates]
        # Minting has no effect on the gateway's state: safe to repeat.
        answer = self._transport.call("POST", "/api/realtime/token", body, idempotent=True)
        return RealtimeToken(answer["token"], answer["expires_in"])

    def put_channel(self, channel_id, server_id=None, slow_mode=None):
        """Register or update a channel; returns ``{"channel_id", "server_id", "slow_mode"}``.

        A new channel needs ``server_id``; left out on an update, ``server_id``
        and ``slow_mode`` (seconds, 0 to 21600) keep their stored values.
        """
        body = {}
        if server_id is not None:
            body["server_id"] = str(server_id)
        if slow_mode is not None:
            body["settings"] = {"slow_mode": slow_mode}
        answer = self._transport.call("PUT", f"/api/realtime/channels/{_segment(channel_id)}", body, idempotent=True)
        return {key: answer[key] for key in ("channel_id", "server_id", "slow_mode")}

    def reserve_channel_message_slot(self, channel_id, user_id):
        """Spend ``user_id``'s slow-mode slot in the channel, or raise ``SlowMode``.

        ``SlowMode.retry_after`` is the wait left in seconds (a float).  An
        unregistered channel raises ``UnknownChannel``.
        """
        path = f"/api/realtime/channels/{_segment(channel_id)}/reserve"
        self._transport.call("POST", path, {"user_id": str(user_id)})

    def publish(self, room, event, data=None):
        """Send ``event`` with ``data`` (any JSON value) to every socket in ``room``, on every worker."""
        body = {"room": room, "event": event}
        if data is not None:
            body["data"] = data
        self._transport.call("POST", "/api/realtime/publish", body)

    def presence(self, server_id):
        """The online members of a server: a list of ``{"user_id", "status"}``."""
        answer = self._transport.call("GET", f"/api/realtime/presence/{_segment(server_id)}", idempotent=True)
        return answer["members"]

    def revoke_session(self, session_id):
        """Disconnect every socket of a session and refuse its tokens until they expire."""
        self._transport.call("POST", f"/api/realtime/sessions/{_segment(session_id)}/revoke", idempotent=True)

    def add_membership(self, user_id, server_id, moderator=False):
        """Make ``user_id`` a member of ``server_id`` on every socket they have, on every worker.

        Each socket joins ``server:<server_id>`` and gets ``server_joined``;
        the server's members see the user's presence.  ``moderator`` sets
        whether the user skips slow mode there (``False`` takes it away).
        It also lifts an earlier ``remove_membership`` at once.  Repeating it
        changes nothing; a user with no socket is fine.  Tokens you issue
        from now on should list the server, or a reconnect loses it.
        """
        path = f"/api/realtime/users/{_segment(user_id)}/servers/{_segment(server_id)}"
        self._transport.call("PUT", path, {"moderator": bool(moderator)}, idempotent=True)

    def remove_membership(self, user_id, server_id):
        """Take ``server_id`` away from every socket of ``user_id``, on every worker (a kick or a ban).

        Each socket leaves ``server:<server_id>`` and that server's channels
        and gets ``server_left``; the members see the user ``offline``.
        Until every token issued before now has expired, a connect or a
        ``refresh_token`` whose token still lists the server does not get it
        back.  Repeating it changes nothing.
        """
        path = f"/api/realtime/users/{_segment(user_id)}/servers/{_segment(server_id)}"
        self._transport.call("DELETE", path, idempotent=True)
