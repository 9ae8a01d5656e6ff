"""flask-chat: the app side of superbot-realtime in one Flask file.

The app keeps what it owns (users, sessions, messages) and leaves the
realtime part to the gateway: it mints tokens for the browser, registers its
channels, reserves the slow-mode slot of each message and publishes it.

Run:  REALTIME_API_KEY=... SECRET_KEY=... flask --app app run
"""

import os
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque

from flask import Flask, jsonify, redirect, render_template, request, send_from_directory, session, url_for

from superbot_realtime import RealtimeClient, RealtimeError, SlowMode

# The one server of this example and its channels (id -> slow mode in seconds).
SERVER_ID = "1"
CHANNELS = {"general": 0, "slow": 5}
MAX_CONTENT = 2000
HISTORY = 50

SOCKETIO_BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_modules", "socket.io-client", "dist")


def create_app(config=None):
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        REALTIME_URL=os.environ.get("REALTIME_URL", "http://127.0.0.1:8080"),
        REALTIME_PUBLIC_URL=os.environ.get("REALTIME_PUBLIC_URL"),
        REALTIME_API_KEY=os.environ.get("REALTIME_API_KEY"),
    )
    app.config.update(config or {})
    if not app.config["SECRET_KEY"] or not app.config["REALTIME_API_KEY"]:
        raise RuntimeError("set SECRET_KEY and REALTIME_API_KEY (the gateway's)")
    realtime = RealtimeClient(app.config["REALTIME_URL"], app.config["REALTIME_API_KEY"])
    store = MessageStore()
    channels = ChannelRegistry(realtime)
    register_pages(app)
    register_api(app, realtime, store, channels)
    return app


class MessageStore:
    """The app's messages: a database in a real app, a bounded list per channel here."""

    def __init__(self):
        self._by_channel = defaultdict(lambda: deque(maxlen=HISTORY))
        self._lock = threading.Lock()

    def add(self, channel_id, user_id, content):
        message = {"id": uuid.uuid4().hex, "channel_id": channel_id, "user_id": user_id,
                   "content": content, "ts": int(time.time() * 1000)}
        with self._lock:
            self._by_channel[channel_id].append(message)
        return message

    def recent(self, channel_id):
        with self._lock:
            return list(self._by_channel[channel_id])


class ChannelRegistry:
    """Registers the channels with the gateway once (again after a failure)."""

    def __init__(self, realtime):
        self._realtime = realtime
        self._done = False
        self._lock = threading.Lock()

    def ensure(self):
        with self._lock:
            if not self._done:
                for channel_id, slow_mode in CHANNELS.items():
                    self._realtime.put_channel(channel_id, server_id=SERVER_ID, slow_mode=slow_mode)
                self._done = True


def register_pages(app):
    @app.get("/")
    def index():
        if "user_id" not in session:
            return render_template("login.html")
        return render_template("chat.html", user_id=session["user_id"], server_id=SERVER_ID,
                               channels=CHANNELS, gateway_url=app.config["REALTIME_PUBLIC_URL"]
                               or app.config["REALTIME_URL"])

    @app.post("/login")
    def login():
        # A real app checks a password here; the example takes any name.
        name = request.form.get("user", "").strip()
        if not name or len(name) > 64 or not name.isprintable():
            return render_template("login.html", error="a name of 1 to 64 characters"), 400
        session.clear()
        session["user_id"] = name
        session["sid"] = secrets.token_urlsafe(16)
        return redirect(url_for("index"))

    @app.get("/vendor/<path:name>")
    def vendor(name):
        # socket.io-client's browser bundle, from `npm ci` in this folder.
        return send_from_directory(SOCKETIO_BUNDLE, name)


def register_api(app, realtime, store, channels):
    @app.post("/logout")
    def logout():
        sid = session.pop("sid", None)
        session.clear()
        if sid:
            realtime.revoke_session(sid)  # closes this session's sockets on every worker
        return redirect(url_for("index"))

    @app.post("/api/realtime/token")
    def realtime_token():
        if "user_id" not in session:
            return jsonify(error="authentication_required"), 401
        channels.ensure()
        token = realtime.issue_token(session["user_id"], servers=[SERVER_ID], session_id=session["sid"])
        return jsonify(token=token, expires_in=token.expires_in)

    @app.get("/channels/<channel_id>/messages")
    def list_messages(channel_id):
        if "user_id" not in session:
            return jsonify(error="authentication_required"), 401
        if channel_id not in CHANNELS:
            return jsonify(error="unknown_channel"), 404
        return jsonify(messages=store.recent(channel_id))

    @app.post("/channels/<channel_id>/messages")
    def post_message(channel_id):
        if "user_id" not in session:
            return jsonify(error="authentication_required"), 401
        if channel_id not in CHANNELS:
            return jsonify(error="unknown_channel"), 404
        content = (request.get_json(silent=True) or {}).get("content")
        if not isinstance(content, str) or not content.strip() or len(content) > MAX_CONTENT:
            return jsonify(error="invalid_content"), 400
        channels.ensure()
        try:
            realtime.reserve_channel_message_slot(channel_id, session["user_id"])
        except SlowMode as slow:
            # Retry-After takes whole seconds: rounded up, a client that obeys it gets in.
            headers = {"Retry-After": str(max(1, int(slow.retry_after + 0.999)))}
            return jsonify(error="slow_mode", retry_after=slow.retry_after), 429, headers
        message = store.add(channel_id, session["user_id"], content.strip())
        realtime.publish(f"channel:{channel_id}", "message_created", message)
        return jsonify(message), 201

    @app.errorhandler(RealtimeError)
    def realtime_failed(err):
        app.logger.warning("realtime gateway: %s", err)
        return jsonify(error="realtime_unavailable", code=err.code), 503


if __name__ == "__main__":
    create_app().run()
