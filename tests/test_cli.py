"""The CLI as a user runs it: JSON schema, REPL through stdin, status, and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.surfaces.cli import main
from tests.conftest import HEADLINE, ROOT, SEED_FILE

ASK_KEYS = {"question", "answer", "short_answer", "abstained", "citations", "answered_by",
            "verified", "warnings", "timings_ms", "as_of", "filters", "earlier"}
CITATION_KEYS = {"n", "article_id", "title", "source", "date", "location", "quote", "quotes", "also"}


def run_cli(*args: str, home, stdin: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """The real `python -m bot` in a subprocess, as a user would run it (env: extra variables)."""
    env = {**os.environ, "NEWSBOT_HOME": str(home), "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli_env(seed_home, monkeypatch):
    monkeypatch.setenv("NEWSBOT_HOME", str(seed_home))
    return seed_home


def test_ask_json_prints_exactly_one_object_with_the_schema(cli_env, capsys):
    assert main(["ask", "--json", HEADLINE]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)  # exactly one object: json.loads would reject anything after it
    assert set(data) == ASK_KEYS
    assert data["question"] == HEADLINE and data["abstained"] is False
    assert "28,500" in data["answer"] and data["short_answer"] == "About 28,500"
    [citation] = data["citations"]
    assert set(citation) == CITATION_KEYS and "28,500" in citation["quote"]
    assert citation["quotes"][0] == citation["quote"]
    assert all(isinstance(v, (int, float)) for v in data["timings_ms"].values())


def test_ask_json_abstains_on_an_unrelated_question(cli_env, capsys):
    assert main(["ask", "--json", "Who won the 2018 FIFA World Cup?"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["abstained"] is True and data["citations"] == []
    assert data["short_answer"] is None


def test_plain_ask_shows_answer_source_and_quote(cli_env, capsys):
    assert main(["ask", HEADLINE]) == 0
    out = capsys.readouterr().out
    assert "28,500" in out and SEED_FILE.name in out and "“About 28,500 American soldiers" in out
    # the short answer first, then how fresh its source is, then the quote
    assert out.startswith("About 28,500\nDate unknown (outlet unknown)\nAbout 28,500 American soldiers")


def test_status_reports_counts_and_location(cli_env, capsys):
    assert main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["articles"] == 1 and status["chunks"] > 1
    assert status["undated_articles"] == 1 and status["date_from"] is None
    assert status["last_ingest"] and str(cli_env) in status["location"]


@pytest.mark.parametrize("args, message", [
    (["ask", ""], "question is empty"),
    (["ask", "-k", "0", "hi"], "-k must be between 1 and 50"),
    (["index", "/no/such/folder"], "no such file or folder: /no/such/folder"),
    (["ask", "--since", "2026-11-21", "--until", "2026-11-01", "hi"],  # seen by a probe
     "--since 2026-11-21 is after --until 2026-11-01: no report can match"),
])
def test_bad_input_gets_one_line_and_a_nonzero_exit(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "home"))
    code = main(args)
    err = capsys.readouterr().err
    assert code != 0 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", [["status"], ["ask", HEADLINE], ["index", "seeds"]])
def test_a_home_that_is_a_file_or_a_dangling_link_is_named_as_such(tmp_path, monkeypatch, capsys,
                                                                   command):
    # Seen by an outside probe: a file said "No index ... Run newsbot index seeds/", and then
    # index said "[Errno 20] Not a directory"; a dangling link said "[Errno 17] File exists".
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "dangle").symlink_to(tmp_path / "nowhere")
    for home, message in (("afile", "is a file, not a folder"),
                          ("dangle", f"is a link to {tmp_path / 'nowhere'}, which does not exist")):
        monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / home))
        assert main(command) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_asking_without_an_index_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "empty"))
    assert main(["ask", HEADLINE]) == 3
    assert "Run `newsbot index seeds/`" in capsys.readouterr().err
    assert not (tmp_path / "empty").exists()  # asking creates nothing


def test_repl_through_stdin_answers_follow_ups_sources_and_quits(seed_home):
    script = "\n".join([HEADLINE, "and how many South Korean soldiers?", ":sources", "",
                        "   ", ":nonsense", "thanks!", ":until 2026-11-01", ":since 2026-11-21",
                        ":help", ":quit", "never asked"]) + "\n"
    result = run_cli("chat", home=seed_home, stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "» How many US troops are in Korea?" in out
    first, rest = out.split("» and how many South Korean soldiers?")
    assert "28,500" in first and "450,000" in rest
    assert "article id: 000_4c3bc3f4986303f8" in rest  # :sources
    assert "Unknown command ':nonsense'" in out and ":quit" in out  # :help text
    # a probe saw "thanks" answered "I couldn't find that in the indexed articles."
    assert "» thanks!\n(nothing to look up" in out and "couldn't find" not in out
    assert "since 2026-11-21 is after until 2026-11-01: no report can match; :since not" in out
    assert "never asked" not in out
    assert "Traceback" not in result.stderr


def test_a_folder_named_twice_is_read_once(tmp_path):
    # Seen by an outside probe: `index DIR DIR/` or `index DIR DIR/a.md` skipped every file as
    # clashing with itself ("id 'library' already used by .../library.md").
    seeds = ROOT / "seeds"
    indexed = run_cli("index", str(seeds), f"{seeds}/", str(SEED_FILE), home=tmp_path / "home")
    assert indexed.returncode == 0, indexed.stderr
    assert "1 new, 0 updated, 0 unchanged, 0 pruned, 0 skipped" in indexed.stdout


def test_index_then_ask_end_to_end_in_a_fresh_home(tmp_path):
    home = tmp_path / "home"
    indexed = run_cli("index", str(ROOT / "seeds"), home=home)
    assert indexed.returncode == 0, indexed.stderr
    assert "1 new, 0 updated, 0 unchanged, 0 pruned, 0 skipped" in indexed.stdout
    asked = run_cli("ask", "--json", HEADLINE, home=home)
    assert asked.returncode == 0, asked.stderr
    assert "28,500" in json.loads(asked.stdout)["answer"]


def _unwritable(folder) -> bool:
    """Make every folder under folder unwritable, even to root (chattr +i); False if it can't."""
    folders = [folder, *(p for p in folder.rglob("*") if p.is_dir())]
    for path in folders:
        path.chmod(0o555)
    probe = folder / "probe"
    try:
        probe.touch()
    except OSError:
        return True
    probe.unlink()
    for path in folders:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            return False
    return True


def _writable(folder) -> None:
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        path.chmod(0o755)


def test_a_keyword_index_that_cannot_be_written_is_one_line_and_ask_still_answers(tmp_path):
    # Seen by an outside probe on a full disk: `index` stopped with a 400-character Rust dump
    # after committing the article, and every `ask` then failed with it.
    home, news = tmp_path / "home", tmp_path / "news"
    news.mkdir()
    assert run_cli("index", str(ROOT / "seeds"), home=home).returncode == 0
    (news / "harbor.txt").write_text("Portvale harbor reopened on Monday after 312 fishing boats "
                                     "returned from the storm, the harbor master said.\n")
    keyword = home / "keyword"
    if not _unwritable(keyword):
        _writable(keyword)
        pytest.skip("cannot make a folder unwritable here")
    try:
        indexed = run_cli("index", str(news), home=home)
        asked = run_cli("ask", "--json", HEADLINE, home=home)
    finally:
        _writable(keyword)
    assert indexed.returncode == 1 and "1 new" in indexed.stdout
    assert "Traceback" not in indexed.stderr and len(indexed.stderr.strip().splitlines()) == 1
    assert "keyword index at" in indexed.stderr and "cannot be written" in indexed.stderr
    assert asked.returncode == 0, asked.stderr
    assert "28,500" in json.loads(asked.stdout)["answer"]
    assert "cannot be written" in asked.stderr and "answering from what it holds" in asked.stderr
    healed = run_cli("ask", "--json", "How many boats returned to Portvale harbor?", home=home)
    assert "312" in json.loads(healed.stdout)["answer"] and healed.stderr == ""


def test_an_index_restored_from_an_older_backup_rebuilds_its_keyword_cache(tmp_path):
    # Seen by an outside probe: chroma/ restored from a backup older than keyword/, whose sync
    # number was then ahead of the store's; an article the backup holds stayed out of the
    # keyword side for good, and status said "keywords up to date".
    import shutil

    from index.keyword import KeywordIndex

    home, news = tmp_path / "home", tmp_path / "news"
    news.mkdir()
    (news / "harbor.txt").write_text("Portvale harbor reopened on Monday after 312 fishing boats "
                                     "returned from the storm, the harbor master said.\n")
    assert run_cli("index", str(news), home=home).returncode == 0
    shutil.copytree(home / "chroma", tmp_path / "backup")
    (news / "harbor.txt").unlink()
    assert run_cli("index", str(news), "--prune", home=home).returncode == 0
    shutil.rmtree(home / "chroma")
    shutil.copytree(tmp_path / "backup", home / "chroma")
    asked = run_cli("ask", "--json", "How many fishing boats returned to Portvale?", home=home)
    assert "312" in json.loads(asked.stdout)["answer"], asked.stdout
    [folder] = [p for p in (home / "keyword").iterdir() if p.is_dir()]
    hits = KeywordIndex(folder).search("Portvale fishing boats", 5)
    assert [chunk_id for chunk_id, _ in hits if chunk_id.startswith("harbor")]


def test_an_error_on_an_all_but_full_disk_says_so(tmp_path, capsys):
    # Seen by an outside probe: a full disk made Chroma fail with "Error in compaction: Failed to
    # apply logs to the metadata segment", which names no disk.
    from bot.surfaces.reporting import disk_note, report_error

    assert disk_note(tmp_path) == "" and disk_note(None) == ""
    assert report_error(RuntimeError("Error in compaction"), 0, tmp_path) == 1
    assert "has" not in capsys.readouterr().err
    # Seen by the same probe: a zeroed HNSW file made every ask fail with Chroma's words alone.
    assert report_error(RuntimeError("Error executing plan: Internal error: Error finding id"),
                        0, tmp_path) == 1
    assert "vector index under NEWSBOT_HOME may be damaged" in capsys.readouterr().err
    note = disk_note(tmp_path / "home", low_mb=10**9)  # a disk with less free than that
    assert note.startswith(f"; the disk holding NEWSBOT_HOME ({tmp_path / 'home'}) has ")
    assert note.endswith(" MB free")


def test_chat_index_groups_copies_of_a_story_as_index_does(tmp_path):
    # Seen by an outside probe: `chat --index` (what `make run` runs) never grouped copies of a
    # story, and a later `newsbot index` of the same files did not either (all unchanged).
    news = tmp_path / "news"
    news.mkdir()
    text = ("Flooding in the river valley forced 31,500 people from their homes, officials said "
            "on Monday. Rescue teams used boats to reach villages cut off by the water. The "
            "regional governor declared a state of emergency and asked the army for help.")
    for outlet in ("CNN", "Reuters"):
        (news / f"flood_{outlet}.md").write_text(
            f"---\ntitle: Valley floods force thousands out\nsource: {outlet}\n---\n{text}\n")
    chat = run_cli("chat", "--index", str(news), home=tmp_path / "home",
                   stdin="How many people were forced from their homes by the flooding?\n")
    assert chat.returncode == 0, chat.stderr
    assert "31,500" in chat.stdout and "also: " in chat.stdout
    assert (tmp_path / "home" / "stories.sqlite").exists()
