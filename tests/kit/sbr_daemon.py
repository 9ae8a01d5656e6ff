"""The real daemon for a Python test (the twin of tests/integration/lib/daemon.mjs):
a temporary conf.d copied from the repo's, a free loopback port, readiness by
polling /healthz, SIGTERM at the end."""

import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

SOURCE_DIR = os.environ.get("SBR_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("SBR_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
BINARY = os.environ.get("SBR_BINARY") or os.path.join(BUILD_DIR, "superbot-realtime")

TEST_ENV = {
    "REALTIME_JWT_SECRET": "test-realtime-secret-0123456789abcdef",
    "SECRET_KEY": "test-app-secret-0123456789abcdef",
    "REALTIME_API_KEY": "test-api-key-0123456789abcdef",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """A running superbot-realtime; ``url`` is its base URL, ``log()`` its output."""

    def __init__(self, env=None, files=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix="sbr-test-")
        conf = os.path.join(self.dir, "conf.d")
        shutil.copytree(os.path.join(SOURCE_DIR, "conf.d"), conf)
        for name, text in (files or {}).items():
            with open(os.path.join(conf, name), "w") as f:
                f.write(text)
        full_env = {**os.environ, **TEST_ENV, "REALTIME_LISTEN": f"127.0.0.1:{self.port}"}
        full_env.pop("REALTIME_REDIS_URL", None)
        full_env.update(env or {})
        self._log_path = os.path.join(self.dir, "daemon.log")
        with open(self._log_path, "wb") as log:
            self.proc = subprocess.Popen([BINARY, "-c", conf], cwd=self.dir, env=full_env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        self._wait_ready()

    def log(self):
        with open(self._log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _wait_ready(self, timeout=15.0):
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited during start-up ({self.proc.returncode}):\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200 and json.load(r)["status"] == "ok":
                        return
            except OSError:
                pass
            if time.monotonic() > end:
                self.proc.kill()
                raise RuntimeError(f"daemon not ready in {timeout} s:\n{self.log()}")
            time.sleep(0.025)

    def stop(self, expect_code=0):
        """SIGTERM, wait for the exit (SIGKILL after 15 s), remove the temp dir; raises
        unless the daemon exits with ``expect_code`` (a crash, or a leak under ASan)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"daemon did not exit within 15 s after SIGTERM:\n{self.log()}")
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        if expect_code is not None and code != expect_code:
            raise AssertionError(f"daemon exited with {code}, not {expect_code}:\n{log[-4000:]}")
        return code


def wait_until(what, fn, timeout=5.0):
    """Call fn every 20 ms until it returns something truthy, which is returned."""
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


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

