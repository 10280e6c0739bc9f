"""Loaders per file type, metadata fallbacks, and clear errors for bad files."""

from __future__ import annotations

import json

import pytest

from index.articles import UNKNOWN_DATE, LoadError, load_path


def test_txt_without_metadata_falls_back_to_first_line_and_unknown_date(tmp_path):
    path = tmp_path / "story-1.txt"
    path.write_text("Troops arrive in Seoul\nAbout 28,500 soldiers are there.\n")
    [article] = load_path(path)
    assert (article.id, article.title, article.date) == ("story-1", "Troops arrive in Seoul",
                                                         UNKNOWN_DATE)
    assert article.location == str(path)
    assert article.text == "Troops arrive in Seoul\nAbout 28,500 soldiers are there."


def test_markdown_front_matter_sets_metadata_and_is_not_article_text(tmp_path):
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: Hegseth in Seoul\nsource: Reuters\ndate: 2025-11-03\n"
                    "url: https://example.com/a\n---\n# Heading\n\nBody text here.\n")
    [article] = load_path(path)
    assert article.title == "Hegseth in Seoul"
    assert article.source == "Reuters"
    assert article.date == "2025-11-03"
    assert article.location == "https://example.com/a"
    assert article.text.startswith("# Heading") and "title:" not in article.text


def test_html_keeps_article_text_and_drops_scripts_and_navigation(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("""<html><head><title>Page title</title>
      <meta property="og:site_name" content="The Daily">
      <meta property="article:published_time" content="2024-05-01T10:00:00Z">
      <script>var tracking = "SECRET";</script><style>p {color: red}</style></head>
      <body><nav>Home | World | Sport</nav><article><h1>Big story</h1>
      <p>First paragraph of the story.</p><p>Second paragraph.</p></article>
      <footer>Copyright</footer></body></html>""")
    [article] = load_path(path)
    assert article.title == "Big story"  # trafilatura: the headline, not the browser tab title
    assert (article.source, article.date) == ("The Daily", "2024-05-01")
    assert "First paragraph of the story." in article.text and "Second paragraph." in article.text
    for junk in ("SECRET", "color", "Home | World", "Copyright"):
        assert junk not in article.text


def test_jsonl_records_use_the_eval_shape(tmp_path):
    path = tmp_path / "news.jsonl"
    rows = [{"id": "a1", "title": "T1", "source": "cnn.com", "url": "https://x/1",
             "date": "2022-06-01", "text": "One."},
            {"id": "a2", "title": None, "source": None, "url": None, "date": None,
             "text": "Second article first line.\nMore."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    a1, a2 = load_path(path)
    assert (a1.id, a1.title, a1.source, a1.date, a1.location) == (
        "a1", "T1", "cnn.com", "2022-06-01", "https://x/1")
    assert (a2.title, a2.date, a2.location) == ("Second article first line.", UNKNOWN_DATE,
                                                str(path))


def test_json_file_may_hold_one_record_or_a_list(tmp_path):
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    one.write_text(json.dumps({"id": "x", "text": "Hello."}))
    many.write_text(json.dumps([{"id": "y", "text": "A."}, {"id": "z", "text": "B."}]))
    assert [a.id for a in load_path(one)] == ["x"]
    assert [a.id for a in load_path(many)] == ["y", "z"]


@pytest.mark.parametrize("name, content, reason", [
    ("empty.txt", b"  \n", "empty file"),
    ("blob.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
    ("latin.txt", "Caf\xe9 news".encode("latin-1"), "not UTF-8"),
    ("bad.json", b"{not json", "invalid JSON"),
    ("bad.jsonl", b'{broken\n', "bad.jsonl:1"),
    ("notext.jsonl", b'{"id": "a", "title": "no text"}\n', "text"),
    ("blank.jsonl", b'{"id": "a", "text": "   "}\n', "text is empty"),
    ("image.png", b"whatever", "unsupported file type .png"),
    ("front.md", b"---\ntitle: [unclosed\n---\nBody.\n", "front matter"),
])
def test_bad_files_raise_a_one_line_reason(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError) as info:
        load_path(path)
    message = str(info.value)
    assert reason in message and "\n" not in message
