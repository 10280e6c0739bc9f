"""Socket Mode against a local WebSocket server that plays Slack's part.

As in Slack: apps.connections.open (on the fake Web API) returns the ws:// URL, the server
pushes events_api envelopes, and every envelope must come back acknowledged by its id.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

from bot.settings import Settings
from bot.surfaces.slack.app import build_app, connect_socket_mode
from tests.conftest import HEADLINE, ROOT
from tests.fake_slack import (APP_TOKEN, BOT_TOKEN, FakeSlack, event_callback, mention, new_id,
                              slack_settings)


class SocketModeServer:
    """Sends the envelopes it is given to whoever connects; keeps what comes back."""

    def __init__(self) -> None:
        self.outbox: queue.Queue[dict] = queue.Queue()
        self.received: queue.Queue[dict] = queue.Queue()
        self.server = serve(self._session, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link/?ticket=test"

    def push(self, envelope: dict) -> None:
        """Send an envelope to the connected client."""
        self.outbox.put(envelope)

    def next_received(self, timeout: float = 20) -> dict:
        """The next message the client sent."""
        return self.received.get(timeout=timeout)

    def _session(self, ws) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1,
                            "connection_info": {"app_id": "A0001"}}))
        reader = threading.Thread(target=self._read, args=(ws,), daemon=True)
        reader.start()
        while reader.is_alive():
            try:
                ws.send(json.dumps(self.outbox.get(timeout=0.1)))
            except queue.Empty:
                continue

    def _read(self, ws) -> None:
        try:
            for text in ws:
                self.received.put(json.loads(text))
        except ConnectionClosed:  # the SDK's client may hang up without a close frame
            pass

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fake():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def envelope(body: str, retry: int = 0) -> dict:
    """An events_api envelope as Socket Mode delivers it."""
    return {"envelope_id": new_id("env-"), "type": "events_api", "payload": json.loads(body),
            "accepts_response_payload": False, "retry_attempt": retry,
            "retry_reason": "timeout" if retry else ""}


def test_socket_mode_acks_each_envelope_and_answers_a_mention_once(fake, tmp_path, answerer):
    server = SocketModeServer()
    fake.wss_url = server.url
    slack = slack_settings(fake, app_token=APP_TOKEN, signing_secret=None)
    handler = connect_socket_mode(build_app(Settings(home=tmp_path), slack, answerer), slack)
    try:
        channel = new_id("C")
        event = mention(channel, HEADLINE)
        body = event_callback(event)
        first, retried = envelope(body), envelope(body, retry=1)
        server.push(first)
        assert server.next_received() == {"envelope_id": first["envelope_id"]}
        [post] = fake.wait_for("chat.postMessage", channel=channel)
        server.push(retried)
        assert server.next_received() == {"envelope_id": retried["envelope_id"]}
        fake.wait_for("reactions.remove", channel=channel)
    finally:
        handler.close()
        server.close()
    assert fake.calls_to("apps.connections.open")
    assert post.body["thread_ts"] == event["ts"] and "28,500" in post.body["text"]
    assert len(fake.calls_to("chat.postMessage", channel=channel)) == 1


def test_a_socket_mode_process_told_to_stop_answers_what_it_acknowledged(fake, seed_home,
                                                                        tmp_path):
    # SIGTERM (a deploy) while acknowledged questions wait in the pool: they are answered, the
    # connection closed, exit 0 (a real `newsbot slack` over Socket Mode).
    server = SocketModeServer()
    fake.wss_url = server.url
    env = {**os.environ, "NEWSBOT_HOME": str(seed_home), "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake.api_url, "HF_HUB_OFFLINE": "1",
           "NEWSBOT_SLACK_STATE": str(tmp_path / "state.sqlite"), "NEWSBOT_SLACK_WORKERS": "1"}
    env.pop("SLACK_SIGNING_SECRET", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "slack"], env=env, cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    channels = [new_id("C") for _ in range(6)]
    try:
        assert "over Socket Mode" in proc.stderr.readline()
        envelopes = [envelope(event_callback(mention(c, HEADLINE))) for c in channels]
        for each in envelopes:
            server.push(each)
        acked = {server.next_received()["envelope_id"] for _ in envelopes}
        assert acked == {e["envelope_id"] for e in envelopes}
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        server.close()
    assert proc.returncode == 0 and "Traceback" not in err, err
    for channel in channels:
        assert len(fake.calls_to("chat.postMessage", channel=channel)) == 1
