"""A scripted OpenAI-compatible server on loopback: POST /v1/chat/completions, plain or SSE.

Tests start it on port 0 and read what each request carried. It also runs on its own, for trying
the CLI by hand:  python -m tests.fake_openai --port 8765 "About 28,500 US troops ... [1]."
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI(ThreadingHTTPServer):
    """Answers every chat completion with `reply`; keeps each request body in `requests`."""

    daemon_threads = True

    def __init__(self, reply: str, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.reply = reply
        self.requests: list[dict] = []

    @property
    def base_url(self) -> str:
        """What OPENAI_BASE_URL should be set to."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        if body.get("stream"):
            self._stream(body["model"], self.server.reply)
        else:
            self._json({"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
                        "model": body["model"], "choices": [{
                            "index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": self.server.reply}}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    def _json(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, model: str, reply: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = re.findall(r"\s*\S+", reply)  # word by word, as a server streams tokens
        deltas = [{"role": "assistant", "content": ""}, *({"content": p} for p in pieces), {}]
        for i, delta in enumerate(deltas):
            chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                     "model": model, "choices": [{
                         "index": 0, "delta": delta,
                         "finish_reason": "stop" if i == len(deltas) - 1 else None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass


def main() -> None:
    """Serve one scripted reply until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reply")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with FakeOpenAI(args.reply, args.port) as server:
        print(f"OPENAI_BASE_URL={server.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
