#!/usr/bin/env python3
"""Write the seed corpora of the fuzz harnesses into corpus/<harness>/.

Each seed is a small input written from the protocol it exercises (RFC 6455,
Engine.IO v4, Socket.IO v5, conf.d, JWT, the server API): valid cases and the
edges around them.  Re-running rewrites the seeds; inputs found by fuzzing
(crash-*, regression-*) are kept."""
import base64, hashlib, hmac, json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# --- WebSocket frames: first byte picks the message bound (index 0..7) ----
def frame(op, payload=b"", fin=True, mask=b"\x11\x22\x33\x44", masked=True, rsv=0, length=None):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload) if length is None else length
    if n < 126:
        hdr = bytes([b0, (0x80 if masked else 0) | n])
    elif n <= 0xFFFF:
        hdr = bytes([b0, (0x80 if masked else 0) | 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([b0, (0x80 if masked else 0) | 127]) + struct.pack(">Q", n)
    if not masked:
        return hdr + payload
    return hdr + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(payload))


B1M = b"\x07"  # 1000000 bytes bound
ws = {
    "text": B1M + frame(1, b"4hello"),
    "binary": B1M + frame(2, b"\x00\x01\x02\xff"),
    "empty-text": B1M + frame(1, b""),
    "fragmented": B1M + frame(1, b"42[\"a", fin=False) + frame(0, b"\",1]"),
    "fragmented-ping-between": B1M + frame(1, b"4a", fin=False) + frame(9, b"p") + frame(0, b"b"),
    "ping": B1M + frame(9, b"probe"),
    "pong": B1M + frame(10, b""),
    "close-normal": B1M + frame(8, b"\x03\xe8bye"),
    "close-empty": B1M + frame(8, b""),
    "close-1byte": B1M + frame(8, b"\x03"),
    "close-bad-code": B1M + frame(8, b"\x03\xed"),
    "close-bad-utf8": B1M + frame(8, b"\x03\xe8\xff"),
    "unmasked": B1M + frame(1, b"4x", masked=False),
    "rsv-bits": B1M + frame(1, b"4x", rsv=0x40),
    "unknown-opcode": B1M + frame(3, b"x"),
    "control-fragmented": B1M + frame(9, b"x", fin=False),
    "control-too-long": B1M + frame(9, b"x" * 126),
    "len16": B1M + frame(2, b"y" * 300),
    "len64-small": B1M + bytes([0x82, 0xFF]) + struct.pack(">Q", 5) + b"\0\0\0\0" + b"hello",
    "len64-topbit": B1M + bytes([0x82, 0xFF]) + struct.pack(">Q", 1 << 63) + b"\0\0\0\0",
    "len64-huge": B1M + bytes([0x82, 0xFF]) + struct.pack(">Q", (1 << 63) - 1) + b"\0\0\0\0",
    "too-big-bound16": b"\x02" + frame(1, b"x" * 17),
    "too-big-fragments": b"\x02" + frame(2, b"x" * 10, fin=False) + frame(0, b"x" * 10),
    "bound0-empty": b"\x00" + frame(1, b""),
    "continuation-alone": B1M + frame(0, b"x"),
    "new-inside-fragmented": B1M + frame(1, b"a", fin=False) + frame(1, b"b"),
    "utf8-split": B1M + frame(1, "é€".encode()[:2], fin=False) + frame(0, "é€".encode()[2:]),
    "utf8-overlong": B1M + frame(1, b"\xc0\xaf"),
    "utf8-surrogate": B1M + frame(1, b"\xed\xa0\x80"),
    "utf8-truncated-end": B1M + frame(1, b"\xe2\x82"),
    "partial-header": B1M + b"\x81",
    "partial-mask": B1M + b"\x81\x85\x11\x22",
    "partial-payload": B1M + frame(1, b"hello")[:-2],
    "many-pings": B1M + frame(9, b"") * 50,
    "handshake-key": b"\x07dGhlIHNhbXBsZSBub25jZQ==",
}
for k, v in ws.items():
    write("ws_frame", k, v)

# --- Engine.IO polling payloads ------------------------------------------
eio = {
    "message": "4hello",
    "two-messages": "4hello\x1e4world",
    "ping-pong": "2\x1e3",
    "probe": "2probe",
    "close": "1",
    "upgrade": "5",
    "noop": "6",
    "open": "0{\"sid\":\"x\"}",
    "binary": "b" + base64.b64encode(b"\x01\x02\x03").decode(),
    "binary-padded": "bAQ==",
    "binary-empty": "b",
    "binary-bad": "b!!!!",
    "binary-no-pad": "bAQ",
    "mixed": "451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
    "empty": "",
    "only-separator": "\x1e",
    "trailing-separator": "4a\x1e",
    "double-separator": "4a\x1e\x1e4b",
    "bad-type": "7x",
    "letter-type": "x",
    "utf8": "4héllo €",
    "sio-event": "42[\"send_message\",{\"channel_id\":\"42\",\"content\":\"hi\"}]",
    "sio-connect": "40{\"token\":\"abc\"}",
    "many": "\x1e".join(["4x"] * 64),
}
for k, v in eio.items():
    write("eio_payload", k, v)

# --- Socket.IO packets, attachments after 0xFF ------------------------------
FF = b"\xff"
sio = {
    "connect": b"0",
    "connect-auth": b'0{"token":"abc"}',
    "connect-nsp": b"0/admin,",
    "connect-nsp-auth": b'0/admin,{"token":"x"}',
    "disconnect": b"1",
    "disconnect-nsp": b"1/admin,",
    "event": b'2["hello",1,{"a":[true,null]}]',
    "event-ack": b'213["join_channel",{"channel_id":"42"}]',
    "event-nsp-ack": b'2/admin,13["x"]',
    "event-number-name": b"2[1,2]",
    "event-reserved": b'2["connect"]',
    "event-empty-array": b"2[]",
    "event-object": b'2{"a":1}',
    "ack": b'31[{"ok":true}]',
    "ack-no-id": b"3[]",
    "connect-error": b'4{"message":"nope"}',
    "binary-event": b'51-["upload",{"_placeholder":true,"num":0}]' + FF + b"\x00\x01",
    "binary-event-two": b'52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]' + FF + b"a" + FF + b"b",
    "binary-event-missing": b'52-["up",{"_placeholder":true,"num":0}]' + FF + b"a",
    "binary-placeholder-out-of-range": b'51-["up",{"_placeholder":true,"num":5}]' + FF + b"a",
    "binary-placeholder-negative": b'51-["up",{"_placeholder":true,"num":-1}]' + FF,
    "binary-placeholder-float": b'51-["up",{"_placeholder":true,"num":0.5}]' + FF,
    "binary-ack": b'61-7[{"_placeholder":true,"num":0}]' + FF + b"z",
    "binary-nsp-ack": b'61-/admin,7[{"_placeholder":true,"num":0}]' + FF,
    "binary-no-dash": b'51["x"]',
    "binary-many-attachments": b'5999999-["x"]',
    "id-too-long": b'21234567890123456["x"]',
    "nsp-long": b"0/" + b"n" * 300 + b",",
    "nsp-nul": b"0/a\x00b,",
    "duplicate-keys": b'2["x",{"a":1,"a":2}]',
    "deep-json": b'2["x",' + b"[" * 200 + b"]" * 200 + b"]",
    "deep-placeholder": b"51-[\"x\"," + b"[" * 70 + b'{"_placeholder":true,"num":0}' + b"]" * 70 + b"]" + FF,
    "trailing-garbage": b'2["x"]garbage',
    "bad-type": b"9",
    "empty": b"",
    "unicode-event": '2["événement",{"x":"\\ud83d\\ude00"}]'.encode(),
    "big-number": b'2["x",1e400,123456789012345678901234567890]',
}
for k, v in sio.items():
    write("sio_packet", k, v)

# --- conf.d files ---------------------------------------------------------
conf = {
    "core": "# the core\nplugin = core\nlisten = 127.0.0.1:8080\nlog_level = info\nmax_connections = 10000\n",
    "core-env": "plugin = core\nlisten = ${FUZZ_LISTEN:-127.0.0.1:${FUZZ_PORT}}\nping_interval_ms = ${REALTIME_PING_INTERVAL_MS:-25000}\n",
    "core-v6": "plugin = core\nlisten = [::1]:8080, *:9090\nreuse_port = yes\n",
    "core-bad-port": "plugin = core\nlisten = 127.0.0.1:70000\n",
    "core-bad-level": "plugin = core\nlog_level = loud\n",
    "core-negative": "plugin = core\nmax_payload = -1\n",
    "core-huge": "plugin = core\nmax_payload = 99999999999999999999999\n",
    "typed": "plugin = thing\nname = hello\ncount = 7\nenabled = off\nratio = 0.25\nsecret = ${FUZZ_SECRET}\n",
    "typed-out-of-bounds": "plugin = thing\ncount = 101\n",
    "typed-bad-bool": "plugin = thing\nenabled = maybe\n",
    "typed-bad-double": "plugin = thing\nratio = nan\n",
    "typed-secret-bad": "plugin = thing\nsecret = ${FUZZ_SECRET}\ncount = ${FUZZ_SECRET}\n",
    "required-empty": "plugin = thing\nneeded = ${FUZZ_EMPTY}\n",
    "unknown-key": "plugin = thing\nnope = 1\n",
    "duplicate-key": "plugin = thing\ncount = 1\ncount = 2\n",
    "quoted": 'plugin = thing\nname = "  spaced  "\n',
    "quote-alone": 'plugin = thing\nname = "\n',
    "nested-default": "plugin = thing\nname = ${A:-${B:-${C:-${D:-x}}}}\n",
    "too-deep": "plugin = thing\nname = " + "${X:-" * 12 + "x" + "}" * 12 + "\n",
    "unterminated": "plugin = thing\nname = ${FUZZ_A\n",
    "empty-var": "plugin = thing\nname = ${}\n",
    "dollar-alone": "plugin = thing\nname = $ and $$ and ${FUZZ_A}x\n",
    "nested-value": "plugin = thing\nname = ${FUZZ_NESTED}\n",
    "big-value": "plugin = thing\nname = ${FUZZ_BIG}${FUZZ_BIG}${FUZZ_BIG}\n",
    "no-plugin": "name = x\n",
    "plugin-twice": "plugin = a\nplugin = b\n",
    "bad-plugin-name": "plugin = Bad Name\n",
    "no-equals": "plugin = thing\njustakey\n",
    "crlf": "plugin = thing\r\ncount = 3\r\n",
    "comments-only": "# nothing\n\n   # indented\n",
    "nul": "plugin = thing\x00\n",
    "tabs": "plugin\t=\tthing\n\tname\t=\tx\t\n",
    "empty": "",
}
for k, v in conf.items():
    write("conf", k, v)

# --- JWT: 0x00 + raw token, or 0x01 + header JSON \n payload JSON (signed) --
SECRET = b"fuzz-secret-0123456789abcdef0123"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def token(header, payload, secret=SECRET):
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(payload, separators=(",", ":")).encode())
    sig = b64u(hmac.new(secret, h + b"." + p, hashlib.sha256).digest())
    return h + b"." + p + b"." + sig


NOW = 1700000100
HS = {"alg": "HS256", "typ": "JWT"}
good = {"iss": "superbot", "aud": "superbot-realtime", "sub": "u1", "iat": NOW - 10, "exp": NOW + 290,
        "jti": "a" * 32, "servers": ["7", "8"], "sid": "s1", "moderates": ["7"]}


def signed(name, header, payload):
    write("jwt_verify", name, b"\x01" + json.dumps(header).encode() + b"\n" + json.dumps(payload).encode())


def raw(name, b):
    write("jwt_verify", name, b"\x00" + b)


raw("good", token(HS, good))
raw("wrong-secret", token(HS, good, b"other"))
raw("alg-none", b64u(b'{"alg":"none"}') + b"." + b64u(json.dumps(good).encode()) + b".")
raw("two-segments", b"abc.def")
raw("four-segments", b"a.b.c.d")
raw("padding", token(HS, good) + b"==")
raw("bad-base64", b"!!!.???.***")
raw("bearer", b"Bearer " + token(HS, good))
raw("empty", b"")
raw("session-int-ids", token(HS, {"sub": 42, "sid": 7, "servers": [7, 8], "exp": NOW + 60}))
signed("s-good", HS, good)
signed("s-expired", HS, dict(good, exp=NOW - 100))
signed("s-leeway", HS, dict(good, exp=NOW - 3))
signed("s-nbf-future", HS, dict(good, nbf=NOW + 100))
signed("s-iat-future", HS, dict(good, iat=NOW + 100))
signed("s-aud-list", HS, dict(good, aud=["x", "superbot-realtime"]))
signed("s-aud-wrong", HS, dict(good, aud="other"))
signed("s-aud-missing", HS, {k: v for k, v in good.items() if k != "aud"})
signed("s-iss-wrong", HS, dict(good, iss="evil"))
signed("s-sub-empty", HS, dict(good, sub=""))
signed("s-sub-long", HS, dict(good, sub="u" * 201))
signed("s-sub-control", HS, dict(good, sub="u\n1"))
signed("s-sub-number", HS, dict(good, sub=12))
signed("s-servers-object", HS, dict(good, servers={"a": 1}))
signed("s-servers-mixed", HS, dict(good, servers=["7", 8, None]))
signed("s-moderates-empty", HS, dict(good, moderates=[]))
signed("s-exp-float", HS, dict(good, exp=1.7e9))
signed("s-exp-huge", HS, dict(good, exp=2 ** 63 - 1))
signed("s-exp-negative", HS, dict(good, exp=-(2 ** 63)))
signed("s-exp-string", HS, dict(good, exp="soon"))
signed("s-no-exp", HS, {k: v for k, v in good.items() if k != "exp"})
signed("s-alg-hs512", {"alg": "HS512"}, good)
signed("s-alg-none", {"alg": "none"}, good)
signed("s-crit", {"alg": "HS256", "crit": ["exp"]}, good)
signed("s-header-array", [], good)
signed("s-payload-array", HS, [1, 2])
write("jwt_verify", "s-dup-keys", b'\x01{"alg":"HS256"}\n{"sub":"a","sub":"b","exp":1700000200}')
write("jwt_verify", "s-not-json", b'\x01{"alg":"HS256"}\nnot json')

# --- server API bodies: selector, then "<param>\n<body>" ------------------
api = {
    "put-new": b"\x0042\n{\"server_id\":\"7\",\"settings\":{\"slow_mode\":10}}",
    "put-update": b"\x0042\n{\"settings\":{\"slow_mode\":0}}",
    "put-no-server": b"\x0099\n{\"settings\":{\"slow_mode\":5}}",
    "put-slow-max": b"\x0042\n{\"server_id\":\"7\",\"settings\":{\"slow_mode\":21600}}",
    "put-slow-over": b"\x0042\n{\"server_id\":\"7\",\"settings\":{\"slow_mode\":21601}}",
    "put-slow-negative": b"\x0042\n{\"server_id\":\"7\",\"settings\":{\"slow_mode\":-1}}",
    "put-slow-float": b"\x0042\n{\"server_id\":\"7\",\"settings\":{\"slow_mode\":1.5}}",
    "put-slow-string": b"\x0042\n{\"server_id\":\"7\",\"settings\":{\"slow_mode\":\"10\"}}",
    "put-settings-array": b"\x0042\n{\"server_id\":\"7\",\"settings\":[]}",
    "put-server-int": b"\x0042\n{\"server_id\":7}",
    "put-server-long": b"\x0042\n{\"server_id\":\"" + b"9" * 300 + b"\"}",
    "put-bad-id": b"\x00a:b\n{\"server_id\":\"7\"}",
    "put-long-id": b"\x00" + b"c" * 250 + b"\n{\"server_id\":\"7\"}",
    "put-not-json": b"\x0042\n{nope",
    "put-array": b"\x0042\n[1]",
    "put-empty": b"\x0042\n",
    "put-deep": b"\x0042\n" + b"{\"a\":" * 100 + b"1" + b"}" * 100,
    "reserve": b"\x0142\n{\"user_id\":\"u1\"}",
    "reserve-int-user": b"\x0142\n{\"user_id\":1}",
    "reserve-unknown-channel": b"\x0177\n{\"user_id\":\"u1\"}",
    "reserve-no-user": b"\x0142\n{}",
    "publish": b"\x02\n{\"room\":\"channel:42\",\"event\":\"message_created\",\"data\":{\"id\":\"1\"}}",
    "publish-no-data": b"\x02\n{\"room\":\"server:7\",\"event\":\"x\"}",
    "publish-bad-room": b"\x02\n{\"room\":\"\",\"event\":\"x\"}",
    "publish-long-event": b"\x02\n{\"room\":\"user:u1\",\"event\":\"" + b"e" * 300 + b"\"}",
    "publish-reserved-event": b"\x02\n{\"room\":\"user:u1\",\"event\":\"connect\"}",
    "publish-data-array": b"\x02\n{\"room\":\"user:u1\",\"event\":\"x\",\"data\":[1,2]}",
    "publish-data-scalar": b"\x02\n{\"room\":\"user:u1\",\"event\":\"x\",\"data\":\"s\"}",
    "publish-room-int": b"\x02\n{\"room\":5,\"event\":\"x\"}",
    "presence": b"\x037\n",
    "presence-bad": b"\x03a/b\n",
    "presence-long": b"\x03" + b"7" * 300 + b"\n",
    "token-body": b"\x04\n{\"user_id\":\"u1\",\"servers\":[\"7\"],\"session_id\":\"s1\",\"moderates\":[]}",
    "token-body-int": b"\x04\n{\"user_id\":1,\"servers\":[7]}",
    "token-body-empty": b"\x04\n{}",
    "ev-join": b"\x05\n[{\"channel_id\":\"42\"}]",
    "ev-send": b"\x35\n[{\"channel_id\":\"42\",\"content\":\"hi\",\"nonce\":\"n1\"}]",
    "ev-send-empty": b"\x35\n[{\"channel_id\":\"42\",\"content\":\"\"}]",
    "ev-send-long": b"\x35\n[{\"channel_id\":\"42\",\"content\":\"" + b"x" * 5000 + b"\"}]",
    "ev-typing": b"\x55\n[{\"channel_id\":\"42\"}]",
    "ev-presence-set": b"\x65\n[{\"status\":\"dnd\"}]",
    "ev-presence-bad": b"\x65\n[{\"status\":\"away\"}]",
    "ev-snapshot": b"\x85\n[{\"server_id\":\"7\"}]",
    "ev-snapshot-int": b"\x85\n[{\"server_id\":7}]",
    "ev-not-array": b"\x25\n{\"channel_id\":\"42\"}",
    "ev-empty-array": b"\x25\n[]",
    "ev-leave": b"\xb5\n[{\"channel_id\":\"42\"}]",
    "ev-typing-stop": b"\xd5\n[{\"channel_id\":\"42\"}]",
}
for k, v in api.items():
    write("api_body", k, v)
print("seeds written", file=sys.stderr)

# --- the whole server: 0 raw frames, 1 messages split on 0xFF, 2 polling ----
def msgs(*parts):
    return b"\x01" + b"\xff".join(parts)


server = {
    "raw-connect-event": b"\x00" + frame(1, b"40") + frame(1, b'42["hello",1]') + frame(8, b"\x03\xe8"),
    "raw-fragmented": b"\x00" + frame(1, b"40") + frame(1, b'42["a', fin=False) + frame(9, b"") + frame(0, b'",2]'),
    "raw-binary-attachments": b"\x00" + frame(1, b"40") + frame(1, b'451-["up",{"_placeholder":true,"num":0}]') + frame(2, b"\x01\x02"),
    "raw-ping-probe": b"\x00" + frame(1, b"2probe") + frame(1, b"5") + frame(1, b"3"),
    "raw-unmasked": b"\x00" + frame(1, b"40", masked=False),
    "raw-bad-utf8": b"\x00" + frame(1, b"4\xff"),
    "raw-too-big": b"\x00" + bytes([0x81, 0xFF]) + struct.pack(">Q", 200000) + b"\0\0\0\0",
    "raw-close-bad": b"\x00" + frame(8, b"\x00\x01"),
    "msg-connect-event": msgs(b"\x0040", b'\x0042["hello",{"a":1}]', b'\x00421["ack me"]'),
    "msg-binary": msgs(b"\x0040", b'\x00452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
                       b"\x02\x00\x01", b"\x02\x02"),
    "msg-binary-missing": msgs(b"\x0040", b'\x00452-["up",{"_placeholder":true,"num":0}]', b"\x02a", b'\x0042["x"]'),
    "msg-binary-alone": msgs(b"\x0040", b"\x02zz"),
    "msg-nsp": msgs(b"\x0040/admin,", b"\x0040", b"\x0041", b'\x0042["after"]'),
    "msg-ack": msgs(b"\x0040", b'\x00431["x"]', b"\x003"),
    "msg-fragmented": msgs(b"\x0040", b'\x0342["split",{"k":"vvvvvvvv"}]'),
    "msg-ping-close": msgs(b"\x04hi", b"\x05\x03\xe8bye"),
    "msg-upgrade-probe": msgs(b"\x002probe", b"\x005", b"\x0040"),
    "msg-double-connect": msgs(b"\x0040", b"\x0040"),
    "msg-unknown": msgs(b"\x009", b"\x00"),
    "poll-connect": b"\x0240",
    "poll-connect-event": b"\x0240\x1e42[\"hello\"]",
    "poll-binary": b"\x0240\x1e451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID",
    "poll-close": b"\x021",
    "poll-bad": b"\x02x",
    "poll-empty": b"\x02",
    "poll-upgrade-noop": b"\x026\x1e2\x1e3",
}
for k, v in server.items():
    write("server", k, v)
