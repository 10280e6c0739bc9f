"""The opt-in local model: a file that is not the pinned one is refused in one line, and, once
`make local-llm` has built the server and verified the model, the real llama-server answers."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import pytest

from bot.answering.generative import QUOTED_SHORT
from bot.surfaces.local_llm import start_server
from bot.surfaces.local_model import MODELS, check_file
from tests.conftest import HEADLINE, ROOT
from tests.test_cli import run_cli

LOCAL = ROOT / ".local-llm"
SPEC = MODELS["1.5b"]
BINARY = LOCAL / "build" / "bin" / "llama-server"
MODEL = LOCAL / "models" / f"{SPEC.alias}.gguf"


def test_a_model_file_that_is_not_the_pinned_one_is_refused_in_one_line(tmp_path):
    fake = tmp_path / "models" / "qwen2.5-coder-0.5b.gguf"
    fake.parent.mkdir()
    fake.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(56))  # a GGUF magic, but not the model
    result = subprocess.run([sys.executable, "-m", "bot.surfaces.local_llm", "--model", "0.5b",
                             "--home", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    digest = hashlib.sha256(fake.read_bytes()).hexdigest()
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"local-llm: refusing {fake}: sha256 {digest[:16]}… (64 bytes) is not the pinned "
        f"1d9614638d18024d… (491,400,064 bytes); delete it to fetch it again."]
    assert fake.is_file() and not (tmp_path / "build").exists()  # kept, and nothing was built


@pytest.mark.skipif(not (BINARY.is_file() and MODEL.is_file()),
                    reason="needs the local model: run `make local-llm` once (builds llama-server "
                           "into .local-llm/, fetches and verifies Qwen2.5-Coder-1.5B)")
def test_the_real_local_model_answers_the_seed_question_checked(seed_home, tmp_path):
    check_file(MODEL, SPEC)
    server, url = start_server(BINARY, MODEL, SPEC.alias, threads=1, port=0,
                               log=tmp_path / "llama-server.log")
    try:
        result = run_cli("ask", "--json", HEADLINE, home=seed_home, env={
            "NEWSBOT_LLM": f"openai:{SPEC.alias}", "OPENAI_BASE_URL": f"{url}/v1",
            "OPENAI_API_KEY": "local", "NEWSBOT_LLM_TIMEOUT": "240"})
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    if data["answered_by"] == f"openai:{SPEC.alias}":  # the model's answer, checked
        # Its own sentences, or its short answer with the source sentence that holds it (noted).
        assert data["verified"] is True
        assert data["warnings"] == [] or data["warnings"][0].endswith(QUOTED_SHORT)
        assert "28,500" in data["answer"] and "28,500" in (data["short_answer"] or "")
    else:  # rejected by the check (or too slow): the quoted answer, marked as a fallback
        assert data["answered_by"] == "extractive" and data["verified"] is False
        assert data["warnings"] and "28,500" in data["answer"]
