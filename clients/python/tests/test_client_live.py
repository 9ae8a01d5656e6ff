"""RealtimeClient against the real daemon (started on a free port), with a
python-socketio client where a call has an effect on sockets: every method,
its success and its error answers."""

import base64
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(os.environ.get("SBR_SOURCE_DIR") or os.path.join(HERE, "..", "..", ".."), "tests", "kit"))

import superbot_realtime as sr  # noqa: E402
from kit_live import TEST_ENV, Refused, Subscriber, start_daemon, stop_daemon, until  # noqa: E402


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class LiveClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = start_daemon()
        cls.rt = sr.RealtimeClient(cls.daemon.url, TEST_ENV["REALTIME_API_KEY"], timeout=5.0)
        cls.wrong = sr.RealtimeClient(cls.daemon.url, "not-the-key", retries=0)

    @classmethod
    def tearDownClass(cls):
        stop_daemon(cls.daemon)

    def subscriber(self, user_id, servers, session_id=None):
        sub = Subscriber(self.daemon.url, self.rt.issue_token(user_id, servers=servers, session_id=session_id))
        self.addCleanup(sub.close)
        return sub

    def test_issue_token(self):
        token = self.rt.issue_token("u1", servers=["7", 8], session_id="s1", moderates=["7"])
        self.assertIsInstance(token, str)
        self.assertEqual(token.expires_in, 300)
        got = claims(token)
        self.assertEqual((got["sub"], got["servers"], got["sid"], got["moderates"]), ("u1", ["7", "8"], "s1", ["7"]))
        self.assertEqual(got["exp"] - got["iat"], 300)
        plain = claims(self.rt.issue_token(42))
        self.assertEqual((plain["sub"], plain["servers"]), ("42", []))
        self.assertNotIn("sid", plain)

    def test_issue_token_errors(self):
        with self.assertRaises(sr.Unauthorized) as caught:
            self.wrong.issue_token("u1")
        self.assertEqual((caught.exception.status, caught.exception.code), (401, "authentication_required"))
        with self.assertRaises(sr.BadRequest) as caught:
            self.rt.issue_token("bad\x01id")
        self.assertEqual((caught.exception.status, caught.exception.code), (400, "invalid_body"))
        with self.assertRaises(sr.BadRequest) as caught:
            self.rt.issue_token("u1", servers=[f"server-{i}-{'x' * 40}" for i in range(60)])
        self.assertEqual(caught.exception.code, "token_too_large")

    def test_put_channel(self):
        self.assertEqual(self.rt.put_channel("put-1", server_id="7", slow_mode=10),
                         {"channel_id": "put-1", "server_id": "7", "slow_mode": 10})
        self.assertEqual(self.rt.put_channel("put-1", slow_mode=0)["server_id"], "7")
        self.assertEqual(self.rt.put_channel("put-1", server_id=9)["slow_mode"], 0)
        self.assertEqual(self.rt.put_channel("put-2", server_id="7")["slow_mode"], 0)

    def test_put_channel_errors(self):
        with self.assertRaises(sr.BadRequest) as caught:
            self.rt.put_channel("put-new")
        self.assertEqual(caught.exception.code, "invalid_body")
        self.assertIn("server_id", caught.exception.detail)
        with self.assertRaises(sr.BadRequest) as caught:
            self.rt.put_channel("put-1", server_id="7", slow_mode=21601)
        self.assertIn("slow_mode", caught.exception.detail)
        with self.assertRaises(sr.BadRequest):
            self.rt.put_channel("no spaces/or slashes", server_id="7")
        with self.assertRaises(sr.Unauthorized) as caught:
            self.wrong.put_channel("put-1", server_id="7")
        self.assertEqual(caught.exception.code, "unauthorized")

    def test_reserve_channel_message_slot(self):
        self.rt.put_channel("slow-1", server_id="7", slow_mode=30)
        self.assertIsNone(self.rt.reserve_channel_message_slot("slow-1", "u1"))
        with self.assertRaises(sr.SlowMode) as caught:
            self.rt.reserve_channel_message_slot("slow-1", "u1")
        self.assertEqual((caught.exception.status, caught.exception.code), (429, "slow_mode"))
        self.assertTrue(25 < caught.exception.retry_after <= 30, caught.exception.retry_after)
        self.rt.reserve_channel_message_slot("slow-1", "u2")  # another user has their own slot
        self.rt.put_channel("free-1", server_id="7")
        for _ in range(3):
            self.rt.reserve_channel_message_slot("free-1", "u1")

    def test_reserve_errors(self):
        with self.assertRaises(sr.UnknownChannel) as caught:
            self.rt.reserve_channel_message_slot("never-registered", "u1")
        self.assertIsInstance(caught.exception, sr.NotFound)
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "unknown_channel"))
        with self.assertRaises(sr.BadRequest):
            self.rt.reserve_channel_message_slot("slow-1", "")
        with self.assertRaises(sr.Unauthorized):
            self.wrong.reserve_channel_message_slot("slow-1", "u1")

    def test_publish_reaches_a_socket_in_the_room(self):
        self.rt.put_channel("pub-1", server_id="7")
        sub = self.subscriber("reader", ["7"])
        self.assertEqual(sub.call("join_channel", {"channel_id": "pub-1"})["ok"], True)
        self.rt.publish("channel:pub-1", "message_created", {"id": "m1", "content": "héllo"})
        self.assertEqual(sub.wait("message_created"), {"id": "m1", "content": "héllo"})
        self.rt.publish("user:reader", "nudge", [1, 2])
        self.assertEqual(sub.wait("nudge"), [1, 2])

    def test_publish_errors(self):
        with self.assertRaises(sr.BadRequest) as caught:
            self.rt.publish("channel:1", "disconnect", {})
        self.assertIn("reserved", caught.exception.detail)
        with self.assertRaises(sr.BadRequest):
            self.rt.publish("", "e", {})
        with self.assertRaises(sr.PayloadTooLarge) as caught:
            self.rt.publish("channel:1", "big", "x" * 1_200_000)
        self.assertEqual((caught.exception.status, caught.exception.code), (413, "payload_too_large"))
        with self.assertRaises(sr.Unauthorized):
            self.wrong.publish("channel:1", "e", {})

    def test_presence(self):
        self.assertEqual(self.rt.presence("pres-empty"), [])
        sub = self.subscriber("present", ["pres-1"])
        members = until("present online", lambda: self.rt.presence("pres-1"))
        self.assertEqual(members, [{"user_id": "present", "status": "online"}])
        self.assertEqual(sub.call("presence_set", {"status": "dnd"}), {"ok": True, "status": "dnd"})
        until("dnd", lambda: self.rt.presence("pres-1") == [{"user_id": "present", "status": "dnd"}])
        with self.assertRaises(sr.BadRequest):
            self.rt.presence("bad\x01")
        with self.assertRaises(sr.Unauthorized):
            self.wrong.presence("pres-1")

    def test_revoke_session(self):
        sub = self.subscriber("revoked", ["7"], session_id="sess-1")
        self.assertIsNone(self.rt.revoke_session("sess-1"))
        self.assertEqual(sub.wait("disconnect_reason"), {"reason": "revoked"})
        self.assertTrue(sub.disconnected.wait(5), "the session's socket was not disconnected")
        with self.assertRaises(Refused) as caught:  # its tokens are refused at connect now
            Subscriber(self.daemon.url, self.rt.issue_token("revoked", servers=["7"], session_id="sess-1"), timeout=2)
        self.assertEqual(caught.exception.message, "invalid_token")
        self.rt.revoke_session("sess-1")  # twice is harmless
        with self.assertRaises(sr.BadRequest) as caught:
            self.rt.revoke_session("x" * 201)
        self.assertEqual(caught.exception.code, "invalid_session_id")
        with self.assertRaises(sr.Unauthorized):
            self.wrong.revoke_session("sess-1")

    def test_add_and_remove_membership(self):
        self.rt.put_channel("club-general", server_id="club", slow_mode=60)
        sub = self.subscriber("member", ["home"])
        self.assertIsNone(self.rt.add_membership("member", "club"))
        self.assertEqual(sub.wait("server_joined"), {"server_id": "club"})
        self.rt.publish("server:club", "club_news", {"n": 1})
        self.assertEqual(sub.wait("club_news"), {"n": 1})
        until("member online in club", lambda: self.rt.presence("club") == [{"user_id": "member", "status": "online"}])
        self.assertEqual(sub.call("join_channel", {"channel_id": "club-general"})["ok"], True)
        # As moderator: slow mode no longer applies to this user there.
        self.rt.add_membership("member", "club", moderator=True)
        for nonce in ("a", "b"):
            ack = sub.call("send_message", {"channel_id": "club-general", "content": "hi", "nonce": nonce})
            self.assertTrue(ack["ok"], ack)
        self.rt.add_membership("member", "club")  # moderator=False takes it away
        first = sub.call("send_message", {"channel_id": "club-general", "content": "hi", "nonce": "c"})
        self.assertTrue(first["ok"], first)  # a moderator's messages spent no slot
        second = sub.call("send_message", {"channel_id": "club-general", "content": "hi", "nonce": "d"})
        self.assertEqual(second["error"], "slow_mode")
        self.assertIsNone(self.rt.remove_membership("member", "club"))
        self.assertEqual(sub.wait("server_left"), {"server_id": "club"})
        until("member gone from club", lambda: self.rt.presence("club") == [])
        self.assertEqual(sub.call("join_channel", {"channel_id": "club-general"})["error"], "forbidden")
        self.rt.remove_membership("member", "club")  # twice is harmless
        self.rt.add_membership("nobody-connected", "club")  # so is a user with no socket
        self.rt.remove_membership("nobody-connected", "club")

    def test_a_removal_holds_against_older_tokens(self):
        old = self.rt.issue_token("kicked", servers=["arena", "home"])
        self.rt.remove_membership("kicked", "arena")
        sub = Subscriber(self.daemon.url, old)
        self.addCleanup(sub.close)
        self.assertEqual(sub.wait("ready")["servers"], ["home"])
        self.rt.add_membership("kicked", "arena")  # lifted: the same old token gets it back
        again = Subscriber(self.daemon.url, old)
        self.addCleanup(again.close)
        self.assertEqual(sorted(again.wait("ready")["servers"]), ["arena", "home"])

    def test_membership_errors(self):
        with self.assertRaises(sr.BadRequest) as caught:
            self.rt.add_membership("u1", "x" * 201)
        self.assertEqual((caught.exception.status, caught.exception.code), (400, "invalid_body"))
        self.assertIn("server_id", caught.exception.detail)
        with self.assertRaises(sr.BadRequest):
            self.rt.remove_membership("bad\x01", "7")
        with self.assertRaises(sr.Unauthorized) as caught:
            self.wrong.add_membership("u1", "7")
        self.assertEqual(caught.exception.code, "unauthorized")
        with self.assertRaises(sr.Unauthorized):
            self.wrong.remove_membership("u1", "7")

    def test_no_gateway_is_a_transport_error(self):
        closed = sr.RealtimeClient("http://127.0.0.1:9", "key", timeout=1, retries=1, backoff=0.01)
        with self.assertRaises(sr.TransportError) as caught:
            closed.presence("7")
        self.assertEqual((caught.exception.status, caught.exception.code), (None, "connection_failed"))


if __name__ == "__main__":
    unittest.main()
