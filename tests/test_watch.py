"""`newsbot watch` and `newsbot sources`: cycles, failures, clean stops, the CLI end to end."""

from __future__ import annotations

import json
import shutil
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from bot.measurement.newsroom import Resource, Site, publish, rss_feed, xml
from bot.surfaces.cli import main
from index.fetch import FetchPolicy, Fetcher
from index.ledger import open_ledger
from index.sources import Source
from index.stories import open_stories
from index.watch import run_watch
from tests.conftest import ROOT
from tests.test_cli import run_cli
from tests.test_live_fetch import records


@pytest.fixture
def site():
    site = Site("The Example Times").start()
    yield site
    site.stop()


def watch_in_thread(tmp_path, store, embedder, sources, every, lines, stop):
    home = tmp_path / "home"
    fetcher = Fetcher(FetchPolicy(host_delay=0, timeout=3, attempts=2, backoff=0.01))
    options = dict(fetcher=fetcher, ledger=open_ledger(home), stories=open_stories(home),
                   every=every, stop=stop, report=lines.append)
    thread = threading.Thread(target=run_watch, args=(store, embedder, lambda: sources),
                              kwargs=options)
    thread.start()
    return thread, open_ledger(home)


def test_a_cycle_reports_in_one_line_and_one_bad_source_does_not_stop_the_others(
        tmp_path, store, fake_embedder, site):
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(3))))
    site.routes["/broken.xml"] = xml('<?xml version="1.0"?><rss><channel><ti')
    site.routes["/down.xml"] = Resource(status=503)
    sources = [Source(site.url(p)) for p in ("/broken.xml", "/down.xml", "/feed.xml")]
    lines: list[str] = []
    stop = threading.Event()
    thread, ledger = watch_in_thread(tmp_path, store, fake_embedder, sources, 3600, lines, stop)
    for _ in range(100):  # one cycle, then it sleeps for the hour
        if any(" new, " in line for line in lines):
            break
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    failures, summary = lines[:2], lines[2]
    assert "broken.xml: failed: malformed feed" in failures[0]
    assert "down.xml: failed: HTTP 503 after 2 tries" in failures[1]
    assert " 3 new, 0 updated, 0 unchanged, 2 failed · 3 sources" in summary
    assert ledger.source(site.url("/feed.xml")).articles == 3
    assert ledger.source(site.url("/down.xml")).last_error.startswith("HTTP 503")


def test_watch_picks_up_a_newly_published_item_within_the_interval(tmp_path, store,
                                                                     fake_embedder, site):
    first, second = records(2)
    items = publish(site, [first])
    site.routes["/feed.xml"] = xml(rss_feed("Times", items))
    lines: list[str] = []
    stop = threading.Event()
    thread, _ = watch_in_thread(tmp_path, store, fake_embedder, [Source(site.url("/feed.xml"))],
                                0.5, lines, stop)
    try:
        for _ in range(100):
            if len(store.articles()) == 1:
                break
            time.sleep(0.1)
        site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, [second]) + items))
        for _ in range(200):
            if sum(" 1 new, " in line for line in lines) == 2:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert len(store.articles()) == 2
    assert sum(" 1 new, " in line for line in lines) == 2


def test_stopping_mid_feed_writes_nothing_half_and_the_next_cycle_redoes_it(
        tmp_path, store, fake_embedder, site):
    recs = records(3)
    items = publish(site, recs)
    site.routes[f"/news/{recs[0]['id']}"].delay = 0.5  # the first article is slow to come
    site.routes["/feed.xml"] = xml(rss_feed("Times", items))
    lines: list[str] = []
    stop = threading.Event()
    thread, ledger = watch_in_thread(tmp_path, store, fake_embedder,
                                     [Source(site.url("/feed.xml"))], 3600, lines, stop)
    time.sleep(0.3)
    stop.set()  # while the first article is on its way
    thread.join(timeout=10)
    assert lines == [] and store.count() == 0
    assert ledger.validators(site.url("/feed.xml")) is None
    assert ledger.source(site.url("/feed.xml")).last_attempt == 0  # due again at once
    again = threading.Event()
    thread, _ = watch_in_thread(tmp_path, store, fake_embedder, [Source(site.url("/feed.xml"))],
                                3600, lines, again)
    for _ in range(100):
        if lines:
            break
        time.sleep(0.1)
    again.set()
    thread.join(timeout=10)
    assert " 3 new, " in lines[0]


def test_sources_add_list_remove_and_status(tmp_path, monkeypatch, capsys, seed_home):
    monkeypatch.setenv("NEWSBOT_HOME", str(seed_home))
    assert main(["sources", "add", "http://127.0.0.1:9/feed.xml", "--every", "15m"]) == 0
    assert main(["sources", "add", "https://example.com/sitemap.xml"]) == 0
    assert main(["sources", "list"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9/feed.xml 15m\nhttps://example.com/sitemap.xml\n" in out
    assert main(["status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["sources"]
    assert [(r["url"], r["articles"], r["last_success"]) for r in rows] == [
        ("http://127.0.0.1:9/feed.xml", 0, None), ("https://example.com/sitemap.xml", 0, None)]
    assert main(["sources", "remove", "https://example.com/sitemap.xml"]) == 0
    assert main(["sources", "remove", "http://127.0.0.1:9/feed.xml"]) == 0
    assert main(["sources", "add", "ftp://example.com/x"]) == 2
    assert "not an http(s) URL" in capsys.readouterr().err


def test_a_bad_line_breaks_no_sources_command_and_is_kept_for_mending(tmp_path, monkeypatch,
                                                                        capsys, seed_home):
    # Seen by an outside probe: `sources add "http://h/a b.xml"` was accepted and written as a
    # line that read back as URL + bad interval; from then on `sources list/add/remove` refused
    # to run (so the CLI could not mend it) and `status` failed with "unexpected error".
    home = tmp_path / "home"
    shutil.copytree(seed_home, home)
    monkeypatch.setenv("NEWSBOT_HOME", str(home))
    (home / "sources.txt").write_text("http://127.0.0.1:9/a b.xml\nhttp://127.0.0.1:9/ok.xml\n")
    assert main(["sources", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("http://127.0.0.1:9/ok.xml\nskipped ") and "line 1: 'b.xml'" in out
    assert main(["status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["sources"]
    assert [r["url"] for r in rows] == ["http://127.0.0.1:9/ok.xml", "http://127.0.0.1:9/a"]
    assert "skipped" in rows[1]["last_error"] and rows[1]["skipped"]
    assert main(["status"]) == 0
    assert "sources      1 (1 lines of sources.txt skipped)" in capsys.readouterr().out
    assert main(["sources", "add", "http://127.0.0.1:9/c d.xml"]) == 0
    assert "added: http://127.0.0.1:9/c%20d.xml" in capsys.readouterr().out
    assert "http://127.0.0.1:9/a b.xml\n" in (home / "sources.txt").read_text()  # kept as written
    assert main(["sources", "remove", "http://127.0.0.1:9/a b.xml"]) == 0  # mended by the CLI
    assert main(["sources", "remove", "http://127.0.0.1:9/c d.xml"]) == 0
    assert main(["sources", "remove", "http://127.0.0.1:9/nothere"]) == 1
    assert main(["sources", "list"]) == 0
    assert capsys.readouterr().out.endswith("not a source: http://127.0.0.1:9/nothere\n"
                                            "http://127.0.0.1:9/ok.xml\n")  # mended: no skips


def test_sources_commands_keep_the_users_comments_and_say_when_a_url_repeats(
        tmp_path, monkeypatch, capsys):
    # Seen by an outside probe: `sources remove` rewrote the file and lost every comment (an
    # owner, a contract number), and a second line for the same feed silently replaced the
    # first one's 30m.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("NEWSBOT_HOME", str(home))
    (home / "sources.txt").write_text(
        "# Newsroom sources -- owner: desk@example.com\n"
        "http://127.0.0.1:9/wire.xml 30m   # wire feed, paid contract #4411\n"
        "# city hall (paused until Dec)\n"
        "http://127.0.0.1:9/hall.xml\n"
        "http://127.0.0.1:9/wire.xml\n")
    assert main(["sources", "list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("http://127.0.0.1:9/wire.xml 30m\nhttp://127.0.0.1:9/hall.xml\n")
    assert "line 5: http://127.0.0.1:9/wire.xml is listed above already" in out
    assert main(["sources", "remove", "http://127.0.0.1:9/hall.xml"]) == 0
    assert main(["sources", "add", "http://127.0.0.1:9/wire.xml", "--every", "15m"]) == 0
    assert main(["sources", "add", "http://127.0.0.1:9/new.xml"]) == 0
    assert (home / "sources.txt").read_text() == (
        "# Newsroom sources -- owner: desk@example.com\n"
        "http://127.0.0.1:9/wire.xml 15m  # wire feed, paid contract #4411\n"
        "# city hall (paused until Dec)\n"
        "http://127.0.0.1:9/wire.xml\n"
        "http://127.0.0.1:9/new.xml\n")


def test_terminal_escapes_typed_into_the_sources_file_are_not_printed(tmp_path, monkeypatch,
                                                                       capsys):
    # Seen by an outside probe: `sources list` printed "\x1b]0;PWNED\x07\x1b[2J" raw (a window
    # title set, the screen cleared), though text from remote pages is cleaned.
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path))
    (tmp_path / "sources.txt").write_text("\x1b]0;PWNED\x07\x1b[2Jhttp://x.example/\n")
    assert main(["sources", "list"]) == 0
    out = capsys.readouterr().out
    assert "skipped " in out and "\x1b" not in out and "\x07" not in out


def test_a_sources_file_from_notepad_with_typos_and_capitals_reads_as_meant(tmp_path):
    # Seen by an outside probe: a byte order mark lost the first line; "http://[::1/feed.xml"
    # ended a running watch (and status) with "unexpected error: ValueError: Invalid IPv6 URL";
    # "HTTP://Example.COM/b.xml" was polled as a second source beside "http://example.com/b.xml".
    from index.sources import read_sources

    path = tmp_path / "sources.txt"
    path.write_bytes("\ufeffhttp://127.0.0.1:9/a.xml\nHTTP://Example.COM/b.xml\n"
                     "http://example.com/b.xml 30m\nhttp://[::1/feed.xml\n".encode())
    sources, bad = read_sources(path)
    assert [(s.url, s.every) for s in sources] == [("http://127.0.0.1:9/a.xml", None),
                                                   ("http://example.com/b.xml", None)]
    assert [why for _, why in bad] == [
        f"{path}, line 3: http://example.com/b.xml is listed above already (that line is used)",
        f"{path}, line 4: not a URL (Invalid IPv6 URL): http://[::1/feed.xml"]


def test_index_a_feed_url_then_ask_cites_the_article_url(tmp_path, site):
    """End to end through the real CLI: the feed's article answers and is cited by its URL."""
    gold = json.loads(next(line for line in (ROOT.parent / "shared/eval/realtimeqa/"
                                             "questions-dev.jsonl").open()))
    corpus = {r["id"]: r for r in records(40)}
    with (ROOT.parent / "shared/eval/realtimeqa/articles.jsonl").open() as lines:
        corpus.update({r["id"]: r for r in map(json.loads, lines)
                       if r["id"] in gold["gold_doc_ids"]})
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, list(corpus.values()))))
    env = {"NEWSBOT_FETCH_DELAY": "0"}
    home = tmp_path / "home"
    indexed = run_cli("index", site.url("/feed.xml"), home=home, env=env)
    assert indexed.returncode == 0, indexed.stderr
    assert f"{len(corpus)} new, 0 updated" in indexed.stdout
    # asked today, "recently" rightly finds nothing: the report is from June 2022
    stale = json.loads(run_cli("ask", "--json", gold["question"], home=home, env=env).stdout)
    assert stale["abstained"] and "the closest is dated 2022-06" in stale["answer"]
    question = gold["question"].replace(" recently", "")
    asked = run_cli("ask", "--json", question, home=home, env=env)
    answer = json.loads(asked.stdout)
    gold_url = site.url(f"/news/{gold['gold_doc_ids'][0]}")
    assert "Squid Game" in answer["answer"]
    assert answer["citations"][0]["location"] == gold_url


def test_relative_links_in_a_feed_are_read_against_its_url(tmp_path, site):
    # Seen by an outside probe: an Atom/RSS entry linking "/news/x" (legal, and common) was
    # refused as "not an http(s) URL", and the failure hid behind "(+1 more)".
    items = [(link.removeprefix(site.url("")), title, date)
             for link, title, date in publish(site, records(2))]
    site.routes["/feed.xml"] = xml(rss_feed("Times", items))
    indexed = run_cli("index", site.url("/feed.xml"), home=tmp_path / "home",
                      env={"NEWSBOT_FETCH_DELAY": "0"})
    assert indexed.returncode == 0, indexed.stderr
    assert "2 new" in indexed.stdout and "failed" not in indexed.stdout


def test_a_wiped_or_restored_index_fetches_again_what_it_lacks(tmp_path, site):
    # Seen by an outside probe: after chroma/ was wiped, or an older copy restored, `index URL`
    # said "unchanged: 0 new" for good: the fetch ledger still listed the articles as indexed.
    import shutil

    home, env = tmp_path / "home", {"NEWSBOT_FETCH_DELAY": "0"}
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(2))))
    assert "2 new" in run_cli("index", site.url("/feed.xml"), home=home, env=env).stdout
    shutil.copytree(home / "chroma", tmp_path / "backup")
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(3))))
    assert "1 new" in run_cli("index", site.url("/feed.xml"), home=home, env=env).stdout
    shutil.rmtree(home / "chroma")
    shutil.copytree(tmp_path / "backup", home / "chroma")  # restored: the third is gone
    again = run_cli("index", site.url("/feed.xml"), home=home, env=env)
    assert again.returncode == 0 and "1 new, 0 updated, 2 unchanged" in again.stdout, again.stdout
    assert "fetched again" in again.stderr
    shutil.rmtree(home / "chroma")
    shutil.rmtree(home / "keyword")  # wiped
    assert "3 new" in run_cli("index", site.url("/feed.xml"), home=home, env=env).stdout


def test_a_damaged_fetch_ledger_is_begun_again(tmp_path, site):
    # Seen by the same probe: garbage in live.sqlite stopped status, index URL and watch with
    # "unexpected error: DatabaseError: file is not a database", naming no file.
    home, env = tmp_path / "home", {"NEWSBOT_FETCH_DELAY": "0"}
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(2))))
    assert "2 new" in run_cli("index", site.url("/feed.xml"), home=home, env=env).stdout
    (home / "live.sqlite").write_bytes(b"\x00garbage" * 100)
    for name in ("live.sqlite-wal", "live.sqlite-shm"):
        (home / name).unlink(missing_ok=True)
    again = run_cli("index", site.url("/feed.xml"), home=home, env=env)
    assert again.returncode == 0 and "2 unchanged" in again.stdout, again.stderr
    assert "moved it to live.sqlite.damaged-" in again.stderr


def test_prune_with_a_url_says_web_articles_are_kept(tmp_path, site):
    # Seen by an outside probe: `index --prune FEED` was silently the same as `index FEED`.
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(1))))
    pruned = run_cli("index", "--prune", site.url("/feed.xml"), home=tmp_path / "home",
                     env={"NEWSBOT_FETCH_DELAY": "0"})
    assert pruned.returncode == 0, pruned.stderr
    assert "--prune applies to files and folders: articles read from the web are kept" in (
        pruned.stdout)


def test_a_url_that_does_not_parse_is_one_failure_and_the_rest_is_indexed(tmp_path):
    # Seen by a probe: `index "http://[::1" FOLDER` stopped at the bad URL; FOLDER never indexed.
    indexed = run_cli("index", "http://[::1", str(ROOT / "seeds"), home=tmp_path / "home")
    assert indexed.returncode == 0, indexed.stderr
    assert "http://[::1: failed: not a URL (Invalid IPv6 URL)" in indexed.stdout
    assert "1 new" in indexed.stdout


def test_watch_once_exits_1_when_every_source_failed(tmp_path, site):
    # Seen by an outside probe: "2 failed · 2 sources" and exit 0, so cron never noticed.
    home = tmp_path / "home"
    for path in ("/gone.xml", "/also-gone.xml"):
        assert run_cli("sources", "add", site.url(path), home=home).returncode == 0
    failed = run_cli("watch", "--once", home=home, env={"NEWSBOT_FETCH_DELAY": "0"})
    assert failed.returncode == 1 and "2 failed" in failed.stdout, failed.stdout


def test_chat_index_takes_a_url_as_index_does(tmp_path, site):
    # Seen by an outside probe: `chat --index http://host/page` said "no such file or folder:
    # http:/host/page", the URL mangled into a path.
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(3))))
    chat = run_cli("chat", "--index", site.url("/feed.xml"), home=tmp_path / "home",
                   env={"NEWSBOT_FETCH_DELAY": "0"}, stdin=":quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "3 new" in chat.stdout and "no such file" not in chat.stderr


def test_a_bad_line_in_the_sources_file_is_skipped_and_the_others_are_watched(tmp_path, site):
    # Seen by an outside probe: a typo added to sources.txt while `watch` ran ended it with
    # "unexpected error: SourcesError", and `chat --watch` stopped taking news for good.
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(1))))
    home = tmp_path / "home"
    assert run_cli("sources", "add", site.url("/feed.xml"), home=home).returncode == 0
    with (home / "sources.txt").open("a") as sources:
        sources.write(f"{site.url('/other.xml')} every-fortnight\n")
    env = {"NEWSBOT_FETCH_DELAY": "0"}
    result = run_cli("watch", "--once", home=home, env=env)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 1 and "'every-fortnight' is not an interval" in skipped[0]
    assert " 1 new, " in result.stdout


def test_watch_once_with_nothing_due_says_so_and_exits(tmp_path, site):
    # Seen by an outside probe: a second `watch --once` (cron) right after the first waited for
    # the next due time, 10 minutes, so cron runs piled up.
    site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, records(1))))
    home = tmp_path / "home"
    assert run_cli("sources", "add", site.url("/feed.xml"), home=home).returncode == 0
    env = {"NEWSBOT_FETCH_DELAY": "0"}
    assert " 1 new, " in run_cli("watch", "--once", home=home, env=env).stdout
    again = run_cli("watch", "--once", home=home, env=env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "nothing due: the next source is due in 10 min" in again.stdout
    # Seen by a probe: status said "1 commits behind the store (a running bot catches up ...)"
    # after watch --once, with no bot running; --once catches the keyword index up, as index does
    status = json.loads(run_cli("status", "--json", home=home).stdout)
    assert status["keyword_behind"] == 0


def test_watch_command_indexes_new_items_and_stops_cleanly_on_sigterm(tmp_path, site):
    first, second = records(2)
    items = publish(site, [first])
    site.routes["/feed.xml"] = xml(rss_feed("Times", items))
    home = tmp_path / "home"
    env = {**os.environ, "NEWSBOT_HOME": str(home), "NEWSBOT_FETCH_DELAY": "0",
           "NEWSBOT_WATCH_INTERVAL": "0.02", "HF_HUB_OFFLINE": "1"}
    assert run_cli("sources", "add", site.url("/feed.xml"), home=home).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "bot", "watch"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out = [proc.stdout.readline() for _ in range(2)]  # the banner, the first cycle
        site.routes["/feed.xml"] = xml(rss_feed("Times", publish(site, [second]) + items))
        out += [proc.stdout.readline() for _ in range(2)]
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert " 1 new, " in out[1] and any(" 1 new, " in line for line in out[2:])
    assert proc.returncode == 0 and rest.strip().endswith("stopped") and "Traceback" not in err
    status = run_cli("status", home=home)
    assert f"{site.url('/feed.xml')} · 2 articles · last success 20" in status.stdout
    # an index only `watch` wrote was said to be last written "never" (an outside probe)
    assert "never" not in status.stdout.split("last ingest", 1)[1].splitlines()[0]
