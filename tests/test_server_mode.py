"""Server mode: the same code against a real `chroma run` on 127.0.0.1, started by the test."""

from __future__ import annotations

import time

import pytest

from bot.errors import IndexMissingError, StoreUnavailableError
from bot.factories import build_answerer, make_store
from bot.surfaces.repl import Repl
from bot.settings import Settings
from index.ingest import ingest
from index.connection import open_store
from index.store import SCHEMA, StoreError
from tests.conftest import HEADLINE, SEEDS
from tests.servers import AuthProxy, chroma_server, free_port, self_signed


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


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
        open_store(tmp_path, f"http://127.0.0.1:{free_port()}")


def test_a_malformed_server_url_is_rejected(tmp_path):
    with pytest.raises(StoreError, match="must look like http://host:port"):
        open_store(tmp_path, "localhost:8000")


@pytest.fixture(scope="module")
def tls_proxy(chroma_url, tmp_path_factory):
    """The Chroma server behind a proxy that wants a token, over TLS with a self-signed cert."""
    cert = self_signed(tmp_path_factory.mktemp("tls"))
    proxy = AuthProxy(chroma_url, "s3cret-token", cert)
    yield proxy, cert[0]
    proxy.close()


def test_the_token_and_ca_reach_a_server_that_wants_them(tls_proxy, embedder, tmp_path):
    proxy, ca = tls_proxy
    settings = Settings(home=tmp_path, chroma_url=proxy.url, chroma_token="s3cret-token",
                        chroma_ca=ca, collection="auth-test")
    report = ingest([SEEDS], make_store(settings), embedder)
    assert len(report.new) == 1
    answer = build_answerer(settings, embedder=embedder).answer(HEADLINE)
    assert "28,500" in answer.answer
    assert "Bearer s3cret-token" in proxy.seen_tokens


def test_a_wrong_token_is_one_line_that_does_not_print_it(tls_proxy, tmp_path):
    proxy, ca = tls_proxy
    with pytest.raises(StoreError) as caught:
        open_store(tmp_path, proxy.url, token="wrong-token", ca_file=ca)
    message = str(caught.value)
    assert "refused access" in message and "NEWSBOT_CHROMA_TOKEN" in message
    assert "wrong-token" not in message and "\n" not in message


def test_a_proxy_that_guards_every_path_refuses_a_wrong_token_as_such(chroma_url, tmp_path):
    # Seen by an outside probe: "cannot reach the Chroma server at ...: <html>" when an
    # nginx-style proxy answered 401 with an HTML page, the heartbeat included.
    page = b"<html>\r\n<head><title>401 Authorization Required</title></head></html>"
    proxy = AuthProxy(chroma_url, "s3cret-token", everywhere=True, page=page)
    try:
        with pytest.raises(StoreError) as caught:
            open_store(tmp_path, proxy.url, token="wrong-token")
    finally:
        proxy.close()
    message = str(caught.value)
    assert "refused access" in message and "NEWSBOT_CHROMA_TOKEN" in message
    assert "<html>" not in message and "wrong-token" not in message


def test_a_server_whose_certificate_is_not_trusted_is_refused(tls_proxy, tmp_path):
    # An outside probe: a certificate problem read "cannot reach ...: Could not connect to a
    # Chroma server. Are you sure it is running?", which sends the operator the wrong way.
    proxy, _ = tls_proxy
    with pytest.raises(StoreError, match="certificate is not trusted .*NEWSBOT_CHROMA_CA"):
        open_store(tmp_path, proxy.url, token="s3cret-token")  # no CA: the system's don't know it
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(StoreError, match="NEWSBOT_CHROMA_CA is not a PEM certificate file"):
        open_store(tmp_path, proxy.url, token="s3cret-token", ca_file=garbage)
    with pytest.raises(StoreError, match="NEWSBOT_CHROMA_CA: a folder, not a file"):
        open_store(tmp_path, proxy.url, token="s3cret-token", ca_file=tmp_path)


def test_credentials_in_the_url_are_refused_and_never_shown(tmp_path):
    with pytest.raises(StoreError) as caught:
        open_store(tmp_path, "http://admin:hunter2@127.0.0.1:1")
    assert "NEWSBOT_CHROMA_TOKEN" in str(caught.value) and "hunter2" not in str(caught.value)


def test_chromas_unsaved_log_tail_stays_short_in_old_and_new_indexes(chroma_url, tmp_path):
    # Chroma re-applies the rows written since its last index checkpoint on the first write
    # after a read, queries waiting meanwhile (README "Scale"): every collection of the store
    # checkpoints every 200 rows; one made with Chroma's default gets it from its next writer.
    client = open_store(tmp_path, chroma_url, "newer").client
    names = [f"older-{SCHEMA}{suffix}" for suffix in ("", "-articles", "-meta")]
    for name in names:
        client.get_or_create_collection(name, embedding_function=None,
                                        configuration={"hnsw": {"space": "cosine"}})

    def thresholds(collections: list[str]) -> set[int]:
        return {client.get_collection(n).configuration_json["hnsw"]["sync_threshold"]
                for n in collections}

    reader = open_store(tmp_path, chroma_url, "older")
    assert thresholds(names) == {1000}  # a reader changes nothing
    reader.claim_writer()
    assert thresholds(names) == {200}
    assert thresholds([f"newer-{SCHEMA}{s}" for s in ("", "-articles", "-meta")]) == {200}


def test_a_server_that_goes_down_is_one_line_per_question_and_answers_again_after(
        tmp_path, embedder, caplog):
    # Seen by an outside probe: each question asked while the server was down printed a
    # traceback of some 150 lines in chat.
    data, port = tmp_path / "chroma", free_port()
    with chroma_server(data, port) as url:
        settings = Settings(home=tmp_path / "home", chroma_url=url, collection="outage")
        ingest([SEEDS], make_store(settings), embedder)
        answerer = build_answerer(settings, embedder=embedder)
        assert "28,500" in answerer.answer(HEADLINE).answer
    with pytest.raises(StoreUnavailableError, match="cannot be reached .*ask again when it is back"):
        answerer.answer(HEADLINE)
    said: list[object] = []
    Repl(answerer, input, said.append).ask(HEADLINE)  # what chat prints for it: one line
    assert len(said) == 1 and "cannot be reached" in str(said[0])
    assert not [r for r in caplog.records if r.exc_info]
    with chroma_server(data, port):
        assert "28,500" in answerer.answer(HEADLINE).answer


def test_a_replica_started_before_the_first_write_serves_and_follows(chroma_url, embedder,
                                                                    tmp_path):
    # Seen by an outside probe: with the README's order (`newsbot watch &`, then the bots), a
    # replica that came up before the writer's first commit exited ("The index ... is empty").
    settings = Settings(home=tmp_path / "home", chroma_url=chroma_url, collection="first-write")
    answerer = build_answerer(settings, embedder=embedder, follow=True)
    assert answerer.answer(HEADLINE).abstained
    ingest([SEEDS], make_store(settings), embedder)
    deadline = time.monotonic() + 10
    while answerer.answer(HEADLINE).abstained:
        assert time.monotonic() < deadline, "the first write was not seen within 10 s"
        time.sleep(0.5)
    with pytest.raises(IndexMissingError):  # a one-off question still says to index first
        build_answerer(settings.model_copy(update={"collection": "never-written"}),
                       embedder=embedder)


def test_a_writer_whose_lease_was_taken_while_it_stalled_stops_before_writing(chroma_url,
                                                                              tmp_path):
    # Seen by an outside probe: a writer stopped (SIGSTOP) past its lease, a second writer
    # was let in, and the first then went on writing 40 updates beside it.
    settings = Settings(home=tmp_path, chroma_url=chroma_url, collection="fenced")
    first, second = make_store(settings), make_store(settings)
    first.claim_writer()
    first.meta.upsert(ids=["writer"], embeddings=[[1.0, 0.0]],  # the stall outlived the lease
                      metadatas=[{"owner": first._lease_owner, "until": time.time() - 1}])
    second.claim_writer()
    with pytest.raises(StoreError, match="took over the index .* this one stops"):
        first.remove_articles([])
    second.release_writer()
    first.remove_articles([])  # the lease is free again: the first may write once more
