"""Server mode: the same code against a real `chroma run` on 127.0.0.1, started by the test."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.factories import build_answerer, make_store
from bot.settings import Settings
from index.ingest import ingest
from index.store import StoreError, open_store
from tests.conftest import HEADLINE, SEEDS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        chroma = Path(shutil.which("chroma") or "chroma")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited with {proc.returncode}")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not come up within 60 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_index_and_answer_through_a_chroma_server(chroma_url, embedder, tmp_path):
    settings = Settings(home=tmp_path / "unused", chroma_url=chroma_url, collection="server-test")
    report = ingest([SEEDS], make_store(settings), embedder)
    assert len(report.new) == 1
    # A second process would open its own client: the data lives in the server, not here.
    answer = build_answerer(settings, embedder=embedder).answer(HEADLINE)
    assert "28,500" in answer.answer and "28,500" in answer.citations[0].quote
    assert not (tmp_path / "unused" / "chroma").exists()  # only a keyword cache is local
    again = ingest([SEEDS], make_store(settings), embedder)
    assert again.unchanged == report.new


def test_an_unreachable_server_is_a_one_line_error(tmp_path):
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        open_store(tmp_path, f"http://127.0.0.1:{_free_port()}")


def test_a_malformed_server_url_is_rejected(tmp_path):
    with pytest.raises(StoreError, match="must look like http://host:port"):
        open_store(tmp_path, "localhost:8000")
