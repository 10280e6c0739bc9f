"""Every surface is total: hostile corpora, paths, bytes and markup get one line, never a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.measurement.fuzz_corpus import build_hostile_corpus
from bot.surfaces.cli import main
from index.connection import open_store
from tests.conftest import HEADLINE, ROOT, SEEDS
from tests.test_cli import run_cli

HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(["[/x]", ":[/x]", "[bold]x[/bold", "\x00" * 8, "\x1b[31m", "\ufeff", "\u202e",
                     "?" * 3000, ":", "[link=file:///etc/passwd]x[/link]"]),
).map(lambda text: text.replace("\n", " "))
NO_ERROR_SHAPES = ("Traceback", "unexpected error")
FUZZ = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _index_lines(stdout: str, kind: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith(f"  {kind} ")]


def test_one_index_run_over_the_hostile_corpus_reports_each_bad_case_once(tmp_path):
    corpus = build_hostile_corpus(tmp_path)
    home = tmp_path / "home"
    first = run_cli("index", str(corpus.root), home=home, env=corpus.env)
    assert first.returncode == 0 and not any(s in first.stderr for s in NO_ERROR_SHAPES), first.stderr
    for kind, expected in (("skipped", corpus.skipped), ("warning", corpus.warnings)):
        lines = _index_lines(first.stdout, kind)
        assert len(lines) == len(expected), "\n".join(lines)
        for where, why in expected:
            hits = [line for line in lines if f"/{where}: " in line and why in line]
            assert len(hits) == 1, (where, why, lines)
    store = open_store(home)
    assert set(store.articles()) == corpus.good_ids
    store.close()  # an embedded index takes no writer while this process reads it
    again = run_cli("index", str(corpus.root), home=home, env=corpus.env)
    assert f"0 new, 0 updated, {len(corpus.good_ids)} unchanged" in again.stdout
    assert _index_lines(again.stdout, "skipped") == _index_lines(first.stdout, "skipped")


def test_markup_in_a_path_is_printed_as_text(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "[bold]" / "["
    folder.mkdir(parents=True)
    (folder / "x].md").write_text('---\ntitle: "[/x] in a title"\n---\nBody.\n')
    (folder / "y].json").write_text("{bad")
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "home"))
    assert main(["index", str(tmp_path / "[bold]")]) == 0
    out = capsys.readouterr().out
    assert f"skipped {folder}/y].json: invalid JSON" in out and "1 new" in out


def test_chat_survives_markup_nul_lines_and_bytes_that_are_not_utf8(seed_home):
    script = b":[/x]\n\x00\x00\x00\n\xff\xfe\xfd\n" + HEADLINE.encode() + b"\n:quit\n"
    result = subprocess.run([sys.executable, "-m", "bot", "chat"], input=script, cwd=ROOT,
                            capture_output=True, timeout=300,
                            env={**os.environ, "NEWSBOT_HOME": str(seed_home)})
    out = result.stdout.decode()
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert "Unknown command ':[/x]'" in out and "28,500" in out
    assert out.count("» ") == 2  # the NUL line is no question; the bad bytes are one


def test_ask_with_bytes_that_are_not_utf8_in_argv_answers(seed_home):
    result = subprocess.run([sys.executable, "-m", "bot", "ask", b"\xff\xfe " + HEADLINE.encode()],
                            cwd=ROOT, capture_output=True, timeout=300,
                            env={**os.environ, "NEWSBOT_HOME": str(seed_home)})
    assert result.returncode == 0 and b"28,500" in result.stdout, result.stderr



@pytest.fixture
def seed_env(seed_home, monkeypatch):
    monkeypatch.setenv("NEWSBOT_HOME", str(seed_home))
    return seed_home


def test_escape_sequences_in_a_question_leave_nothing_behind(seed_env, capsys):
    # Seen by an outside probe: "\x1b[31m" left "31m", read as a figure no report mentions.
    assert main(["ask", f"\x1b]0;title\x07\x1b[31m{HEADLINE}\x1b[0m"]) == 0
    assert "28,500" in capsys.readouterr().out


@pytest.mark.parametrize("question", ["\u200b", "\ufeff \u200b", "\u2028\xa0", "\x1b[0m"])
def test_a_question_of_invisible_characters_is_empty(seed_env, capsys, question):
    assert main(["ask", question]) == 2
    assert "The question is empty" in capsys.readouterr().err


def test_an_article_cannot_turn_the_printed_answer_around(tmp_path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("---\ntitle: \"Harbor \u202eevil\u202c news\"\nsource: \u202eTimes\n"
                               "---\nThe Quuxtown harbor moved 4.5 million containers, "
                               "\u202eofficials said\u202c.\n")
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "home"))
    assert main(["index", str(docs)]) == 0
    capsys.readouterr()
    assert main(["ask", "How many containers did the Quuxtown harbor move?"]) == 0
    out = capsys.readouterr().out
    assert "4.5 million" in out and "Harbor evil news" in out and "\u202e" not in out


def test_chat_help_shows_the_citation_marker(seed_env, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b":help\n"), encoding="utf-8"))
    assert main(["chat"]) == 0
    assert "cite their sources as [n]." in capsys.readouterr().out


def test_a_reader_that_stops_early_gets_no_error(seed_env, monkeypatch, capsys):
    # `newsbot ask ... | head -c 20` printed "unexpected error: BrokenPipeError".
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone: every write fails with EPIPE
    closed = open(write_end, "w", buffering=1)
    monkeypatch.setattr(sys, "stdout", closed)
    assert main(["ask", "--json", HEADLINE]) == 141
    assert capsys.readouterr().err == ""


def test_a_chat_whose_reader_stops_early_ends_as_ask_does(seed_home):
    # Seen by an outside probe: `newsbot chat ... | head -1` exited 1 without a word (Rich's own
    # broken-pipe exit), where `ask ... | head` exits 141.
    env = {**os.environ, "NEWSBOT_HOME": str(seed_home), "HF_HUB_OFFLINE": "1"}
    shell = (f"{sys.executable} -m bot chat --ask '{HEADLINE}' < /dev/null | head -1 >/dev/null;"
             " echo ${PIPESTATUS[0]}")
    ended = subprocess.run(["bash", "-c", shell], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert ended.stdout.strip() == "141" and ended.stderr == "", ended


def test_a_huge_piped_line_is_not_echoed_whole(seed_env, monkeypatch, capsys):
    line = "why " * 25_000
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(line.encode()), encoding="utf-8"))
    assert main(["chat"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out) < 1_000 and "too long" in captured.out + captured.err


def test_a_page_of_scripts_costs_one_line_and_no_library_warning(tmp_path):
    # Seen by an outside probe: "WARNING trafilatura.core: discarding data: None" on stderr.
    page = tmp_path / "scripts.html"
    page.write_text("<html><head><script>var a=1;</script></head><body><script>alert('x')"
                    "</script><style>p{}</style></body></html>")
    result = run_cli("index", str(page), home=tmp_path / "home")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert f"skipped {page}: no article text" in result.stdout

def test_a_bad_command_line_gets_one_line(capsys):
    assert main(["ask", "--nope", "q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognized arguments: --nope" in err


def _one_line_or_none(code: int, err: str) -> None:
    assert not any(shape in err for shape in NO_ERROR_SHAPES), err
    assert err.count("\n") == (0 if code == 0 else 1), err


@FUZZ
@given(question=HOSTILE_TEXT)
def test_fuzz_ask_answers_or_says_why_in_one_line(seed_home, monkeypatch, capsys, question):
    monkeypatch.setenv("NEWSBOT_HOME", str(seed_home))
    code = main(["ask", question])
    _one_line_or_none(code, capsys.readouterr().err)
    assert code in (0, 2)


@FUZZ
@given(lines=st.lists(HOSTILE_TEXT, max_size=4))
def test_fuzz_chat_reads_any_input_to_the_end(seed_home, monkeypatch, capsys, lines):
    monkeypatch.setenv("NEWSBOT_HOME", str(seed_home))
    data = "\n".join(lines).encode("utf-8", "surrogateescape")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code = main(["chat"])
    _one_line_or_none(code, capsys.readouterr().err)
    assert code == 0


@pytest.fixture(scope="module")
def fuzz_home(tmp_path_factory):
    """A home with the seeds indexed, that the index fuzz test may add to but must not lose."""
    home = tmp_path_factory.mktemp("fuzz-home")
    assert run_cli("index", str(SEEDS), home=home).returncode == 0
    return home


@FUZZ
@given(name=HOSTILE_TEXT, content=st.binary(max_size=300), suffix=st.sampled_from(
    [".txt", ".md", ".html", ".json", ".jsonl", ""]))
def test_fuzz_index_reads_any_file_and_keeps_the_index(fuzz_home, tmp_path, monkeypatch, capsys,
                                                       name, content, suffix):
    monkeypatch.setenv("NEWSBOT_HOME", str(fuzz_home))
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    safe = name.replace("/", "_").replace("\x00", "_")[:100].lstrip(".") or "x"
    path = folder / (safe + suffix)
    try:
        path.write_bytes(content)
    except (OSError, ValueError):  # a name this file system refuses
        return
    code = main(["index", str(path)])
    _one_line_or_none(code, capsys.readouterr().err)
    assert code == 0
    assert "000_4c3bc3f4986303f8" in open_store(fuzz_home).articles()  # nothing indexed is lost
    path.unlink()


@settings(max_examples=15, deadline=None, derandomize=True)
@given(question=st.binary(min_size=1, max_size=40).filter(lambda b: b"\x00" not in b),
       stdin=st.binary(max_size=80))
def test_fuzz_real_process_takes_any_bytes_on_argv_and_stdin(seed_home, question, stdin):
    # --ask=Q: a question may start with "-", which argparse would read as an option otherwise
    result = subprocess.run([sys.executable, "-m", "bot", "chat", b"--ask=" + question],
                            input=stdin, cwd=ROOT, capture_output=True, timeout=300,
                            env={**os.environ, "NEWSBOT_HOME": str(seed_home)})
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0 and not any(s in err for s in NO_ERROR_SHAPES), err
