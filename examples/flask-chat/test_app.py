"""flask-chat with Flask's test client against the real daemon: sign-in, the
token route, a python-socketio client in the channel receiving what the app
publishes, slow mode as 429 with Retry-After, sign-out revoking the session."""

import math
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("SBR_SOURCE_DIR") or os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "clients", "python"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "kit"))

from app import SOCKETIO_BUNDLE, create_app  # noqa: E402
from kit_live import TEST_ENV, Refused, Subscriber, start_daemon, stop_daemon  # noqa: E402


class FlaskChatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = start_daemon()
        cls.app = create_app({"TESTING": True, "SECRET_KEY": "flask-chat-test", "REALTIME_URL": cls.daemon.url,
                              "REALTIME_API_KEY": TEST_ENV["REALTIME_API_KEY"]})

    @classmethod
    def tearDownClass(cls):
        stop_daemon(cls.daemon)

    def signed_in(self, name):
        browser = self.app.test_client()
        self.assertEqual(browser.post("/login", data={"user": name}).status_code, 302)
        return browser

    def socket(self, browser):
        answer = browser.post("/api/realtime/token")
        self.assertEqual(answer.status_code, 200, answer.get_data(as_text=True))
        self.assertEqual(answer.json["expires_in"], 300)
        sub = Subscriber(self.daemon.url, answer.json["token"])
        self.addCleanup(sub.close)
        self.assertEqual(sub.wait("ready")["servers"], ["1"])
        return sub

    def test_pages(self):
        browser = self.app.test_client()
        self.assertIn(b'name="user"', browser.get("/").data)
        self.assertEqual(browser.post("/login", data={"user": ""}).status_code, 400)
        page = self.signed_in("page-reader").get("/").get_data(as_text=True)
        self.assertIn("/vendor/socket.io.min.js", page)
        self.assertIn(self.daemon.url, page)

    def test_the_socketio_bundle_is_served(self):
        if not os.path.exists(os.path.join(SOCKETIO_BUNDLE, "socket.io.min.js")):
            self.skipTest("run `npm ci` in examples/flask-chat for the browser bundle")
        answer = self.app.test_client().get("/vendor/socket.io.min.js")
        self.assertEqual(answer.status_code, 200)
        self.assertIn(b"io", answer.data[:2000])
        answer.close()

    def test_token_route_needs_a_session(self):
        answer = self.app.test_client().post("/api/realtime/token")
        self.assertEqual((answer.status_code, answer.json), (401, {"error": "authentication_required"}))

    def test_a_posted_message_reaches_the_channel(self):
        alice, bob = self.signed_in("alice"), self.signed_in("bob")
        bob_socket = self.socket(bob)
        self.assertTrue(bob_socket.call("join_channel", {"channel_id": "general"})["ok"])
        answer = alice.post("/channels/general/messages", json={"content": " hello bob "})
        self.assertEqual(answer.status_code, 201, answer.get_data(as_text=True))
        message = answer.json
        self.assertEqual((message["user_id"], message["content"], message["channel_id"]), ("alice", "hello bob", "general"))
        self.assertEqual(bob_socket.wait("message_created"), message)
        self.assertEqual(bob.get("/channels/general/messages").json["messages"][-1], message)

    def test_slow_mode_is_429_with_retry_after(self):
        carol = self.signed_in("carol")
        self.assertEqual(carol.post("/channels/slow/messages", json={"content": "one"}).status_code, 201)
        refused = carol.post("/channels/slow/messages", json={"content": "two"})
        self.assertEqual(refused.status_code, 429)
        self.assertEqual(refused.json["error"], "slow_mode")
        self.assertTrue(0 < refused.json["retry_after"] <= 5, refused.json)
        self.assertEqual(int(refused.headers["Retry-After"]), math.ceil(refused.json["retry_after"]))
        self.assertEqual(self.signed_in("dave").post("/channels/slow/messages", json={"content": "x"}).status_code, 201)

    def test_bad_messages(self):
        erin = self.signed_in("erin")
        self.assertEqual(erin.post("/channels/nope/messages", json={"content": "x"}).status_code, 404)
        self.assertEqual(erin.post("/channels/general/messages", json={"content": "  "}).status_code, 400)
        self.assertEqual(erin.post("/channels/general/messages", data="not json").status_code, 400)
        anonymous = self.app.test_client().post("/channels/general/messages", json={"content": "x"})
        self.assertEqual(anonymous.status_code, 401)

    def test_sign_out_ends_the_sockets_of_the_session(self):
        frank = self.signed_in("frank")
        token = frank.post("/api/realtime/token").json["token"]
        sub = self.socket(frank)
        self.assertEqual(frank.post("/logout").status_code, 302)
        self.assertEqual(sub.wait("disconnect_reason"), {"reason": "revoked"})
        self.assertTrue(sub.disconnected.wait(5), "the socket of the signed-out session stayed open")
        with self.assertRaises(Refused) as caught:
            Subscriber(self.daemon.url, token, timeout=2)
        self.assertEqual(caught.exception.message, "invalid_token")
        self.assertEqual(frank.post("/api/realtime/token").status_code, 401)

    def test_gateway_down_is_503(self):
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "REALTIME_URL": "http://127.0.0.1:9",
                          "REALTIME_API_KEY": "k"})
        browser = app.test_client()
        browser.post("/login", data={"user": "grace"})
        answer = browser.post("/api/realtime/token")
        self.assertEqual((answer.status_code, answer.json), (503, {"error": "realtime_unavailable", "code": "connection_failed"}))


if __name__ == "__main__":
    unittest.main()
