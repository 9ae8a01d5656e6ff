"""What the Python tests of the integration kit share, beside
tests/python/sbr_daemon.py (the daemon itself): a daemon started and stopped
cleanly, and a python-socketio client that records what it receives."""

import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from sbr_daemon import TEST_ENV, Daemon, until  # noqa: E402,F401  (re-exported for the tests)


def start_daemon(**options):
    """A running daemon on the repo's conf.d (options as Daemon's)."""
    return Daemon(**options).start()


def stop_daemon(daemon):
    """SIGTERM; raises unless it exits 0 (a crash, or a leak under ASan)."""
    code = daemon.stop()
    log = daemon.log()
    daemon.cleanup()
    if code != 0:
        raise AssertionError(f"daemon exited with {code}:\n{log[-4000:]}")


class Refused(Exception):
    """The gateway refused a Socket.IO connection; ``message`` says why (invalid_token, ...)."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Subscriber:
    """A python-socketio client connected with a realtime token: every event it
    gets is queued for ``wait``; ``call`` emits with an ack."""

    def __init__(self, url, token, timeout=5.0):
        import socketio  # Debian's python3-socketio, only needed here

        self.events = queue.Queue()
        self.disconnected = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", lambda event, *args: self.events.put((event, args[0] if args else None)))
        self.sio.on("disconnect", self.disconnected.set)
        refusal = []
        self.sio.on("connect_error", lambda data=None: refusal.append((data or {}).get("message", str(data))))
        try:
            self.sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=timeout)
        except socketio.exceptions.ConnectionError:
            raise Refused(refusal[0] if refusal else "no answer") from None

    def wait(self, event, timeout=5.0):
        """The payload of the next ``event`` (other events before it are skipped)."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no '{event}' within {timeout} s")
            try:
                name, payload = self.events.get(timeout=left)
            except queue.Empty:
                raise AssertionError(f"no '{event}' within {timeout} s") from None
            if name == event:
                return payload

    def call(self, event, data, timeout=5.0):
        return self.sio.call(event, data, timeout=timeout)

    def close(self):
        self.sio.disconnect()
