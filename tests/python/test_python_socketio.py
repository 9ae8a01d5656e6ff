"""The gateway driven by a second Socket.IO client: Debian's python3-socketio
(python-socketio 5.7 with python-engineio 4.3), which speaks the protocol a
little differently from the JavaScript client (it drops events of a
namespace it is not connected to yet, sends binary attachments its own way,
upgrades during the handshake).  Polling, WebSocket, the upgrade, acks,
binary, the refusals, the wire order at connect, endings with a reason, and
reconnection after the worker restarts, against the real daemon.

Run with Debian's interpreter: /usr/bin/python3 -m unittest discover -s tests/python
"""

import os
import queue
import threading
import time
import unittest
import warnings

import socketio

from sbr_daemon import SOURCE_DIR, Daemon, realtime_token, until

WAIT = 10.0

# python-engineio leaves the sockets of failed reconnection attempts to the
# garbage collector: not the gateway's concern.
warnings.simplefilter("ignore", ResourceWarning)


class Recorder:
    """A python-socketio client whose events land, in order, in a list."""

    def __init__(self, **options):
        options.setdefault("reconnection", False)
        self.sio = socketio.Client(**options)
        self.events = []
        self.lock = threading.Lock()
        self.connects = 0
        self.disconnects = 0
        self.connect_errors = queue.Queue()

        @self.sio.event
        def connect():
            with self.lock:
                self.connects += 1
                self.events.append(("connect", None))

        @self.sio.event
        def connect_error(data):
            self.connect_errors.put(data)

        @self.sio.event
        def disconnect():
            with self.lock:
                self.disconnects += 1
                self.events.append(("disconnect", None))

        @self.sio.on("*")
        def any_event(event, *args):
            with self.lock:
                self.events.append((event, args[0] if len(args) == 1 else list(args)))

    def names(self):
        with self.lock:
            return [name for name, _ in self.events]

    def wait_event(self, name, count=1):
        until("%d x %s" % (count, name), lambda: self.names().count(name) >= count, WAIT)
        with self.lock:
            return [data for n, data in self.events if n == name][count - 1]

    def connect(self, url, token=None, transports=None, wait_timeout=WAIT):
        self.sio.connect(url, auth={"token": token} if token else None, transports=transports,
                         wait_timeout=wait_timeout)
        return self

    def close(self):
        try:
            self.sio.disconnect()
        except Exception:  # already gone
            pass


class OneWorker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon().start()
        status, _ = cls.d.http("PUT", "/api/realtime/channels/py1", {"server_id": "pys"}, api_key=True)
        assert status == 200

    @classmethod
    def tearDownClass(cls):
        code = cls.d.stop()
        cls.d.cleanup()
        assert code == 0

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def client(self, **options):
        c = Recorder(**options)
        self.clients.append(c)
        return c

    def connect_as(self, user, transports, servers=("pys",)):
        return self.client().connect(self.d.url, realtime_token(user, servers=list(servers)), transports)

    def check_session(self, c, user):
        """ready, the user's own presence after connect, acks both ways."""
        ready = c.wait_event("ready")
        self.assertEqual(ready, {"user_id": user, "servers": ["pys"], "session_id": None})
        names = c.names()
        # The CONNECT answer came first: this client drops events that
        # precede it, so the user's own presence would be missing otherwise.
        self.assertEqual(names[0], "connect")
        self.assertIn("presence_update", names)
        self.assertLess(names.index("presence_update"), names.index("ready"))
        snapshot = c.sio.call("presence_snapshot", {"server_id": "pys"}, timeout=WAIT)
        self.assertTrue(snapshot["ok"])
        self.assertIn({"user_id": user, "status": "online"}, snapshot["members"])

    def test_polling(self):
        c = self.connect_as("py-poll", ["polling"])
        self.assertEqual(c.sio.transport(), "polling")
        self.check_session(c, "py-poll")

    def test_websocket(self):
        c = self.connect_as("py-ws", ["websocket"])
        self.assertEqual(c.sio.transport(), "websocket")
        self.check_session(c, "py-ws")

    def test_upgrade(self):
        c = self.connect_as("py-up", None)
        self.assertEqual(c.sio.transport(), "websocket")
        self.check_session(c, "py-up")

    def test_acks_and_room_events(self):
        a = self.connect_as("py-a", ["websocket"])
        b = self.connect_as("py-b", ["polling"])
        for c in (a, b):
            joined = c.sio.call("join_channel", {"channel_id": "py1"}, timeout=WAIT)
            self.assertEqual(joined["ok"], True)
            self.assertEqual(joined["channel_id"], "py1")
        sent = a.sio.call("send_message", {"channel_id": "py1", "content": "hello", "nonce": "n1"}, timeout=WAIT)
        self.assertTrue(sent["ok"])
        for c in (a, b):
            message = c.wait_event("message")
            self.assertEqual(message["id"], sent["id"])
            self.assertEqual((message["content"], message["user_id"], message["nonce"]), ("hello", "py-a", "n1"))
        refused = a.sio.call("join_channel", {"channel_id": "nope"}, timeout=WAIT)
        self.assertEqual(refused, {"ok": False, "error": "unknown_channel"})
        unknown = a.sio.call("no_such_event", {}, timeout=WAIT)
        self.assertEqual(unknown, {"ok": False, "error": "unknown_event"})

    def test_refusals(self):
        cases = [
            (None, "authentication_required"),
            ("garbage", "invalid_token"),
            (realtime_token("py-x", exp=int(time.time()) - 60), "invalid_token"),
            (realtime_token("py-x", aud="someone-else"), "invalid_token"),
        ]
        for token, message in cases:
            for transports in (["polling"], ["websocket"]):
                with self.subTest(token=token, transports=transports):
                    c = self.client()
                    # This client waits out wait_timeout even after a refusal.
                    with self.assertRaises(socketio.exceptions.ConnectionError):
                        c.connect(self.d.url, token, transports, wait_timeout=0.5)
                    self.assertEqual(c.connect_errors.get(timeout=WAIT), {"message": message})

    def test_revoked_session_ends_with_a_reason_and_no_reconnection(self):
        c = self.client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5)
        c.connect(self.d.url, realtime_token("py-rev", sid="py-sess", servers=["pys"]), ["polling"])
        c.wait_event("ready")
        status, _ = self.d.http("POST", "/api/realtime/sessions/py-sess/revoke", api_key=True)
        self.assertEqual(status, 200)
        self.assertEqual(c.wait_event("disconnect_reason"), {"reason": "revoked"})
        c.wait_event("disconnect")
        self.assertLess(c.names().index("disconnect_reason"), c.names().index("disconnect"))
        time.sleep(1.0)  # twice the longest reconnection delay
        self.assertEqual(c.connects, 1, "ended on purpose: no reconnection")


class Binary(unittest.TestCase):
    """Binary attachments both ways, through the echo example plugin."""

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(conf_dir=os.path.join(SOURCE_DIR, "tests", "conformance", "conf.d")).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.d.cleanup()

    def test_binary_round_trip(self):
        for transports in (["polling"], ["websocket"]):
            with self.subTest(transports=transports):
                c = Recorder().connect(self.d.url, None, transports)
                try:
                    blob = bytes(range(256)) * 4
                    self.assertEqual(c.sio.call("message-with-ack", blob, timeout=WAIT), blob)
                    mixed = c.sio.call("message-with-ack", {"name": "x", "data": b"\x00\xff"}, timeout=WAIT)
                    self.assertEqual(mixed, {"name": "x", "data": b"\x00\xff"})
                finally:
                    c.close()


class Restart(unittest.TestCase):
    def test_reconnects_by_itself_after_the_worker_restarts(self):
        first = Daemon().start()
        port = first.port
        second = None
        c = Recorder(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0)
        try:
            c.connect(first.url, realtime_token("py-rs", servers=["pys"]), ["websocket"])
            c.wait_event("ready")
            self.assertEqual(first.stop(), 0)
            second = Daemon(port=port).start()
            until("reconnected", lambda: c.connects == 2, WAIT)
            c.wait_event("ready", count=2)
            self.assertEqual(c.sio.call("presence_snapshot", {"server_id": "pys"}, timeout=WAIT)["ok"], True)
            self.assertNotIn("disconnect_reason", c.names())
        finally:
            c.close()
            first.cleanup()
            if second:
                second.cleanup()


if __name__ == "__main__":
    unittest.main()
