"""Start the real daemon for a Python test, as tests/integration/lib/daemon.mjs
does for the Node tests: a temporary conf.d made from the repo's (minus what
the test drops, plus what it adds), a free loopback port, readiness by polling
/healthz, SIGTERM at the end.  Standard library only.

SBR_BINARY, SBR_BUILD_DIR and SBR_SOURCE_DIR (set by ctest) say where the
build and the sources are; without them the repo's build/ is used.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
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


def until(what, fn, timeout=10.0, interval=0.02):
    """Call fn until it returns something truthy (returned); fail after timeout seconds."""
    end = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(interval)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign(payload, secret):
    """An HS256 JWT of payload."""
    head = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + _b64url(mac)


def realtime_token(sub="u1", **claims):
    """A realtime token as auth-jwt issues it (claims override the defaults)."""
    now = int(time.time())
    payload = {"iss": "superbot", "aud": "superbot-realtime", "sub": sub, "iat": now, "exp": now + 300,
               "jti": "py-%d-%s" % (now, sub), "servers": []}
    payload.update(claims)
    return sign(payload, TEST_ENV["REALTIME_JWT_SECRET"])


class Daemon:
    """One superbot-realtime process; use start() then stop()."""

    def __init__(self, conf_dir=None, drop=(), files=None, env=None, port=None):
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.dir = tempfile.mkdtemp(prefix="sbr-pytest-")
        self.conf_dir = os.path.join(self.dir, "conf.d")
        os.mkdir(self.conf_dir)
        base = conf_dir or os.path.join(SOURCE_DIR, "conf.d")
        for name in os.listdir(base):
            if name not in drop:
                shutil.copy(os.path.join(base, name), self.conf_dir)
        for name, text in (files or {}).items():
            with open(os.path.join(self.conf_dir, name), "w") as f:
                f.write(text)
        self.env = dict(os.environ)
        self.env.pop("REALTIME_REDIS_URL", None)
        self.env.update(TEST_ENV)
        self.env["REALTIME_LISTEN"] = "127.0.0.1:%d" % self.port
        for key, value in (env or {}).items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = str(value)
        self.proc = None
        self.log_path = os.path.join(self.dir, "daemon.log")

    def start(self, timeout=15.0):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BINARY, "-c", self.conf_dir], cwd=self.dir, env=self.env,
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited during start-up:\n" + self.log())
            try:
                if self.http("GET", "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            if time.monotonic() > end:
                self.proc.kill()
                raise AssertionError("daemon not ready in %.0f s:\n%s" % (timeout, self.log()))
            time.sleep(0.025)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Signal the daemon and wait; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("daemon did not exit after %s:\n%s" % (sig, self.log()))
        self._log.close()
        return code

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def http(self, method, path, body=None, api_key=False):
        """(status, parsed JSON or text) of one request."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if api_key:
            req.add_header("Authorization", "Bearer " + TEST_ENV["REALTIME_API_KEY"])
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text
