"""Exactly-once claims through a Chroma server: replicas on any host share them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from index.connection import open_store
from index.expiring import ExpiringState
from tests.conftest import ROOT
from tests.servers import chroma_server

CLAIMER = """
import json, sys
from index.connection import open_store
from index.expiring import ExpiringState
state = ExpiringState(open_store(None, sys.argv[1], "claims"))
print(json.dumps([k for k in (f"event-{i}" for i in range(40)) if state.claim(k, 3600)]))
"""


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    with chroma_server(tmp_path_factory.mktemp("chroma-state")) as url:
        yield url


def test_two_processes_claiming_the_same_events_win_each_exactly_once(chroma_url):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, chroma_url], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for _ in range(3)]
    won = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert sorted(k for keys in won for k in keys) == sorted(f"event-{i}" for i in range(40))


def test_values_and_expiry(chroma_url):
    now = [1000.0]
    state = ExpiringState(open_store(None, chroma_url, "expiry"), clock=lambda: now[0])
    assert state.claim("delivery:1", 60) and not state.claim("delivery:1", 60)
    state.put("answer:1", {"text": "About 28,500 [1]"}, 60)
    assert state.get("answer:1") == {"text": "About 28,500 [1]"}
    now[0] += 61
    assert state.get("answer:1") is None
    assert state.claim("delivery:1", 60)  # an expired claim can be taken again
    now[0] += 61
    assert state.purge() == 2
