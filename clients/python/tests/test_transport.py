"""The client's own logic against a scripted local HTTP server: retries and
backoff only for idempotent calls and only without a 4xx, timeouts, broken
connections, answers that are not the gateway's JSON."""

import http.server
import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import superbot_realtime as sr  # noqa: E402


class ScriptedServer(http.server.ThreadingHTTPServer):
    """Answers each request with the next step of ``script``: (status, headers, body),
    ("sleep", seconds) or ("drop",); records (method, path, headers, body)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ScriptedHandler)
        self.script = []
        self.requests = []
        self.lock = threading.Lock()

    def next_step(self, record):
        with self.lock:
            self.requests.append(record)
            return self.script.pop(0) if self.script else (500, {}, b"script exhausted")


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        step = self.server.next_step((self.command, self.path, dict(self.headers), body))
        if step[0] == "sleep":
            time.sleep(step[1])
            step = (200, {}, b"{}")
        if step[0] == "drop":
            self.close_connection = True
            return
        status, headers, data = step
        data = data if isinstance(data, bytes) else json.dumps(data).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:
            pass  # the client gave up waiting

    do_GET = do_POST = do_PUT = _serve


class TransportTest(unittest.TestCase):
    def setUp(self):
        self.start_server()
        self.client = self.make_client()

    def start_server(self):
        self.server = ScriptedServer()
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def make_client(self, **kw):
        client = sr.RealtimeClient(f"http://127.0.0.1:{self.server.server_address[1]}", "key", **kw)
        self.waits = []
        client._transport.sleep = self.waits.append
        return client

    def test_requests_carry_the_key_json_and_quoted_path_segments(self):
        self.server.script = [(200, {}, {"ok": True, "channel_id": "a b", "server_id": "7", "slow_mode": 5})]
        self.assertEqual(self.client.put_channel("a b", server_id=7, slow_mode=5),
                         {"channel_id": "a b", "server_id": "7", "slow_mode": 5})
        method, path, headers, body = self.server.requests[0]
        self.assertEqual((method, path), ("PUT", "/api/realtime/channels/a%20b"))
        self.assertEqual(headers["Authorization"], "Bearer key")
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(json.loads(body), {"server_id": "7", "settings": {"slow_mode": 5}})

    def test_idempotent_call_retries_5xx_with_growing_backoff(self):
        self.server.script = [(503, {}, {"error": "unavailable"}), (502, {}, b"<html>"),
                              (200, {}, {"server_id": "7", "members": []})]
        self.assertEqual(self.client.presence("7"), [])
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(len(self.waits), 2)
        self.assertTrue(0.1 <= self.waits[0] <= 0.2 and 0.2 <= self.waits[1] <= 0.4, self.waits)

    def test_retries_end_with_the_last_error(self):
        self.server.script = [(503, {}, {"error": "unavailable"})] * 3
        with self.assertRaises(sr.Unavailable) as caught:
            self.client.revoke_session("s1")
        self.assertEqual((caught.exception.status, caught.exception.code), (503, "unavailable"))
        self.assertEqual(len(self.server.requests), 3)

    def test_retry_after_of_a_503_is_obeyed_up_to_a_cap(self):
        self.server.script = [(503, {"Retry-After": "2"}, {"error": "unavailable"}),
                              (503, {"Retry-After": "3600"}, {"error": "unavailable"}),
                              (200, {}, {"ok": True, "revoked": "s1"})]
        self.client.revoke_session("s1")
        self.assertEqual(self.waits[0], 2.0)
        self.assertEqual(self.waits[1], 5.0)

    def test_no_retry_on_4xx(self):
        self.server.script = [(400, {}, {"error": "invalid_body", "detail": "server_id is required"})]
        with self.assertRaises(sr.BadRequest) as caught:
            self.client.put_channel("c1")
        self.assertEqual(caught.exception.detail, "server_id is required")
        self.assertEqual(len(self.server.requests), 1)
        self.assertEqual(self.waits, [])

    def test_publish_and_reserve_are_never_retried(self):
        self.server.script = [(503, {}, {"error": "unavailable"}), (503, {}, {"error": "unavailable"})]
        with self.assertRaises(sr.Unavailable):
            self.client.publish("channel:1", "e", {"a": 1})
        with self.assertRaises(sr.Unavailable):
            self.client.reserve_channel_message_slot("c1", "u1")
        self.assertEqual(len(self.server.requests), 2)

    def test_timeout_raises_timeout_and_retries_only_idempotent_calls(self):
        client = self.make_client(timeout=0.2)
        self.server.script = [("sleep", 0.6)]
        started = time.monotonic()
        with self.assertRaises(sr.Timeout) as caught:
            client.publish("channel:1", "e")
        self.assertLess(time.monotonic() - started, 0.55)
        self.assertEqual((caught.exception.status, caught.exception.code), (None, "timeout"))
        self.assertEqual(len(self.server.requests), 1)
        self.server.script = [("sleep", 0.6), ("sleep", 0.6), ("sleep", 0.6)]
        with self.assertRaises(sr.Timeout):
            client.presence("7")
        self.assertEqual(len(self.server.requests), 4)

    def test_dropped_connection_is_a_transport_error_and_retried(self):
        self.server.script = [("drop",), (200, {}, {"token": "a.b.c", "expires_in": 300})]
        token = self.client.issue_token("u1", servers=["7"])
        self.assertEqual((token, token.expires_in), ("a.b.c", 300))
        self.assertEqual(len(self.server.requests), 2)

    def test_refused_connection(self):
        port = self.server.server_address[1]
        self.server.shutdown()
        self.server.server_close()
        client = sr.RealtimeClient(f"http://127.0.0.1:{port}", "key", retries=1, backoff=0)
        with self.assertRaises(sr.TransportError) as caught:
            client.presence("7")
        self.assertEqual(caught.exception.code, "connection_failed")
        self.start_server()  # for tearDown

    def test_answers_that_are_not_json_get_the_status_code(self):
        self.server.script = [(413, {"Content-Type": "text/html"}, b"<html>too large</html>"),
                              (431, {}, b""), (500, {}, b"oops")]
        with self.assertRaises(sr.PayloadTooLarge) as caught:
            self.client.publish("r", "e")
        self.assertEqual(caught.exception.code, "payload_too_large")
        with self.assertRaises(sr.HeadersTooLarge):
            self.client.publish("r", "e")
        with self.assertRaises(sr.ServerError) as caught:
            self.client.publish("r", "e")
        self.assertEqual(caught.exception.code, "server_error")

    def test_slow_mode_retry_after_from_body_or_header(self):
        self.server.script = [(429, {"Retry-After": "5"}, {"error": "slow_mode", "retry_after": 4.2}),
                              (429, {"Retry-After": "3"}, {"error": "slow_mode"})]
        with self.assertRaises(sr.SlowMode) as caught:
            self.client.reserve_channel_message_slot("c1", "u1")
        self.assertEqual(caught.exception.retry_after, 4.2)
        self.assertIsInstance(caught.exception, sr.TooManyRequests)
        with self.assertRaises(sr.SlowMode) as caught:
            self.client.reserve_channel_message_slot("c1", "u1")
        self.assertEqual(caught.exception.retry_after, 3.0)


if __name__ == "__main__":
    unittest.main()
