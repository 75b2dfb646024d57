"""Bad input, one test each, and a folder mixing all of it: the scorer keeps going, and
every input record ends up in exactly one of articles.jsonl and errors.jsonl."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import make_rows, write_jsonl

from stancewatch import StanceClassifier
from stancewatch.articles import ArticleError, Reading, read_articles, record_key
from stancewatch.cleaning import MIN_ENGLISH_SHARE, english_share
from stancewatch.outputs import ARTICLES, ERRORS, SENTENCES
from stancewatch.report import FLAG_NOTES
from stancewatch.scoring import score_path

ENGLISH = " ".join(r["text"] for r in make_rows(2, seed=8))
# One "sentence" of 5,000 words with no punctuation.
RUN_ON = " ".join((re.sub(r"[.,]", "", ENGLISH).split() * 300)[:5000])
# Invented for these tests: one paragraph per language (the same news, translated).
FOREIGN = {
    "fr": "Le gouvernement a annoncé hier que les négociations sur le barrage reprendront la "
          "semaine prochaine à Genève, malgré les tensions entre les deux pays voisins.",
    "de": "Die Regierung hat gestern angekündigt, dass die Verhandlungen über den Staudamm "
          "nächste Woche in Genf fortgesetzt werden, trotz der Spannungen zwischen beiden "
          "Ländern.",
    "es": "El gobierno anunció ayer que las negociaciones sobre la presa se reanudarán la "
          "próxima semana en Ginebra, a pesar de las tensiones entre los dos países vecinos.",
    "it": "Il governo ha annunciato ieri che i negoziati sulla diga riprenderanno la prossima "
          "settimana a Ginevra, nonostante le tensioni tra i due paesi vicini.",
    "nl": "De regering heeft gisteren aangekondigd dat de onderhandelingen over de dam volgende "
          "week in Genève worden hervat, ondanks de spanningen tussen beide buurlanden.",
    "pt": "O governo anunciou ontem que as negociações sobre a barragem serão retomadas na "
          "próxima semana em Genebra, apesar das tensões entre os dois países vizinhos.",
    "ru": "Правительство вчера объявило, что переговоры о плотине возобновятся на следующей "
          "неделе в Женеве, несмотря на напряжённость между двумя соседними странами.",
}
PAGE = """<!DOCTYPE html><html><head><title>Ignored</title>
<script>document.title = "ran";</script><style>p {color: red}</style></head>
<body><h1>Border talks</h1><p>Norland threatened to destroy the dam within days.</p>
<p>If Sudria sends the convoy, relations will be &amp; remain ruined.</p>
<div>The talks resume on Monday<br>in Geneva.</div></body></html>"""


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def one(path: Path, **reading) -> dict | ArticleError:
    (item,) = Reading(**reading).articles(path)
    return item


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.load(tiny_model, device="cpu", backend="torch")


def test_empty_and_whitespace_files_are_errors(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text(" \n\t\r\n", encoding="utf-8")
    assert one(tmp_path / "empty.txt").error == "empty file"
    assert one(tmp_path / "blank.txt").error == "empty text"


def test_binary_files_are_rejected_with_the_offset(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    (tmp_path / "scan.txt").write_bytes(png)
    assert one(tmp_path / "scan.txt").error == "binary data, not text (a NUL byte at offset 8)"
    # No NUL byte, but mostly undecodable: another encoding (here cp1251 Russian)
    (tmp_path / "cp1251.txt").write_bytes(FOREIGN["ru"].encode("cp1251"))
    error = one(tmp_path / "cp1251.txt").error
    assert error.startswith("not UTF-8 text:") and "offset 0" in error
    (tmp_path / "photo.png").write_bytes(png)
    (tmp_path / "story.txt").write_text(ENGLISH, encoding="utf-8")
    items = list(read_articles(tmp_path))
    assert [record_key(i)[0] for i in items] == [
        "cp1251.txt", "photo.png", "scan.txt", "story.txt"]
    assert "unsupported file type '.png'" in items[1].error


def test_invalid_utf8_is_replaced_and_flagged(tmp_path):
    raw = ENGLISH.encode("utf-8").replace(b"Geneva", b"Gen\xe8ve")
    (tmp_path / "latin1.txt").write_bytes(raw)
    article = one(tmp_path / "latin1.txt")
    assert article["flags"] == ["invalid_utf8"]
    assert "Gen\ufffdve" in article["text"]
    assert article["text"].replace("\ufffd", "è") == ENGLISH.replace("Geneva", "Genève")


def test_byte_order_marks_pick_the_encoding_and_are_dropped(tmp_path):
    for name, raw in {"utf8": b"\xef\xbb\xbf" + ENGLISH.encode("utf-8"),
                      "utf16le": ENGLISH.encode("utf-16"),  # little-endian, with its mark
                      "utf16be": b"\xfe\xff" + ENGLISH.encode("utf-16-be"),
                      "utf32": ENGLISH.encode("utf-32")}.items():
        (tmp_path / f"{name}.txt").write_bytes(raw)
        assert one(tmp_path / f"{name}.txt") == {
            "id": name, "text": ENGLISH, "file": str(tmp_path / f"{name}.txt"), "line": None,
            "flags": []}, name
    lines = [json.dumps({"id": i, "text": ENGLISH}).encode() for i in (1, 2)]
    (tmp_path / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines))
    assert [a["id"] for a in read_articles(tmp_path / "bom.jsonl")] == ["1", "2"]


def test_an_article_over_the_size_limit_is_an_error_and_not_read_whole(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        for _ in range(20):
            handle.write((ENGLISH + "\n").encode() * (1_000_000 // (len(ENGLISH) + 1) + 1))
    size = path.stat().st_size
    assert size > 20_000_000
    error = one(path)
    assert error.error == (f"the file is {size:,} bytes, over max_article_bytes=1,000,000 "
                           "(split it into articles, or raise max_article_bytes)")
    smaller = tmp_path / "smaller.txt"
    smaller.write_bytes(path.read_bytes()[:1_500_000])
    assert one(smaller).error.startswith("the file is 1,500,000 bytes, over")
    assert one(smaller, max_article_bytes=2_000_000)["text"].startswith(ENGLISH)


def test_a_run_on_sentence_is_cut_to_the_window_and_flagged(classifier):
    text = "Talks resume on Monday. " + RUN_ON + ". The end."
    result = classifier.score_article(text)
    rows = result["sentences"]
    budget = classifier.model.window.budget
    assert budget == 30  # the tiny model reads 32 tokens, two of them [CLS] and [SEP]
    assert [r["flags"] for r in rows[:1] + rows[-1:]] == [[], []]
    pieces = rows[1:-1]
    assert len(pieces) >= 5000 // budget and all(r["flags"] == ["cut"] for r in pieces)
    counts = classifier.model.window.count([r["text"] for r in pieces])
    assert max(counts) <= budget
    assert sum(len(r["text"].split()) for r in pieces) == 5000  # every word, once
    assert [r["index"] for r in rows] == list(range(len(rows)))
    for row in rows:
        assert text[row["start"]:row["end"]] == row["text"]
    # one "word" longer than the window stays whole; the model reads its start
    blob = classifier.score_article("Norland " + "," * 400 + " said.")["sentences"]
    assert [r["flags"] for r in blob] == [["cut"], ["cut", "truncated"], ["cut"]]


def test_html_is_stripped_and_flagged(tmp_path):
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    article = one(tmp_path / "page.html")
    assert article["flags"] == ["html"]
    assert article["text"] == (
        "Border talks\n\nNorland threatened to destroy the dam within days.\n\nIf Sudria sends "
        "the convoy, relations will be & remain ruined.\n\nThe talks resume on Monday\nin "
        "Geneva.")
    write_jsonl(tmp_path / "rows.jsonl", [
        {"id": "tagged", "text": "<p>Norland <b>threatened</b> the dam.</p>"},
        {"id": "brackets", "text": "Norland called the plan <unacceptable> and <<absurd>>."},
        {"id": "only-tags", "text": "<p> </p><script>alert(1)</script>"},
        # HTML5 lets </head> go unwritten; whole pages sit in a <form> (ASP.NET)
        {"id": "open-head", "text": "<html><head><title>T</title><body><p>Talks resumed."},
        {"id": "form", "text": "<body><form><p>Talks resumed.</p></form></body>"}])
    items = list(read_articles(tmp_path / "rows.jsonl"))
    assert (items[0]["text"], items[0]["flags"]) == ("Norland threatened the dam.", ["html"])
    assert items[1]["flags"] == [] and "<unacceptable>" in items[1]["text"]
    assert items[2].error == "no text left once HTML is removed"
    assert [item["text"] for item in items[3:]] == ["Talks resumed."] * 2


@pytest.mark.parametrize("language", sorted(FOREIGN))
def test_text_that_is_mostly_not_english_is_flagged(classifier, language):
    assert english_share(FOREIGN[language]) < MIN_ENGLISH_SHARE
    result = classifier.score_article(FOREIGN[language] + " " + FOREIGN[language])
    assert result["flags"] == ["not_english"]


def test_english_with_a_foreign_quote_and_short_texts_are_not_flagged(classifier):
    assert classifier.score_article(ENGLISH + " " + FOREIGN["fr"])["flags"] == []
    assert english_share("Norland threatened Sudria.") is None
    assert classifier.score_article("Sudria a menacé Norland.")["flags"] == []


def test_jsonl_bad_lines_are_errors_naming_their_line(tmp_path):
    big = {"id": "big", "text": "Norland said. " * 80_000}
    lines = [json.dumps({"id": "a", "text": ENGLISH}), "{not json", json.dumps({"id": "b"}),
             json.dumps({"id": "c", "text": ["a", "list"]}), json.dumps(big),
             json.dumps({"id": "a", "text": ENGLISH}), "", json.dumps({"text": ENGLISH}),
             json.dumps({"id": True, "text": ENGLISH}), '{"id": "s", "text": "caf\\udce9 talks"}']
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(read_articles(path))
    errors = {i.line: i.error for i in items if isinstance(i, ArticleError)}
    assert errors == {
        2: "not valid JSON (Expecting property name enclosed in double quotes)",
        3: "'text' is missing",
        4: "'text' must be a string, got list",
        5: f"the line is {len(lines[4]) + 1:,} bytes, over max_article_bytes=1,000,000 (split "
           "it into articles, or raise max_article_bytes)",
        9: "'id' must be a non-empty string or an integer, got True",
    }
    articles = [(i["line"], i["id"], i["flags"]) for i in items if isinstance(i, dict)]
    assert articles == [(1, "a", []), (6, "a", []), (8, "batch:8", []),
                        (10, "s", ["invalid_utf8"])]
    assert items[-1]["text"] == "caf\ufffd talks", "a lone surrogate cannot be written as UTF-8"
    # the repeated id is an error when scored: ids key the output rows


def test_csv_with_a_text_column(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(
        b"id,title,text,extra\n"
        b"c1,First,\"Norland threatened the dam.\nIt said so, twice.\",x\n"
        b"c2,,   ,\n"
        b"c3,Third,\"Sudria d\xe9clined to comment.\"\n"
        b",No id,Talks resume on Monday.,\n"
        b"c5,Short row\n")
    items = list(read_articles(path))
    assert [(i.line, i.error) for i in items if isinstance(i, ArticleError)] == [
        (4, "empty text"), (7, "'text' is missing")]
    articles = [i for i in items if isinstance(i, dict)]
    assert [(a["line"], a["id"], a.get("title"), a["flags"]) for a in articles] == [
        (2, "c1", "First", []), (5, "c3", "Third", ["invalid_utf8"]),
        (6, "table:6", "No id", [])]
    assert articles[0]["text"] == "Norland threatened the dam.\nIt said so, twice."
    (tmp_path / "notext.csv").write_text("id,body\n1,Hello\n", encoding="utf-8")
    (error,) = read_articles(tmp_path / "notext.csv")
    assert (error.line, error.error) == (None, "no 'text' column in the header row (columns: "
                                               "'id', 'body')")


def _mixed_folder(root: Path) -> set[tuple[str, int | None]]:
    """A folder with every kind of bad input next to good ones; returns the records it
    holds (file name, line)."""
    folder = root / "mixed"
    folder.mkdir()
    records = set()

    def whole(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)
        records.add((name, None))

    whole("a_good.txt", ENGLISH.encode())
    whole("b_empty.txt", b"")
    whole("c_blank.txt", b"  \n \n")
    whole("d_binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    whole("e_photo.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF")
    whole("f_latin1.txt", ENGLISH.replace("Geneva", "Genève").encode("latin-1"))
    whole("g_bom.txt", b"\xef\xbb\xbf" + ENGLISH.encode())
    whole("h_utf16.txt", ENGLISH.encode("utf-16"))
    whole("i_huge.txt", ENGLISH.encode() * (20_000_000 // len(ENGLISH) + 1))
    whole("j_runon.txt", RUN_ON.encode())
    whole("k_page.html", PAGE.encode())
    whole("l_french.txt", (FOREIGN["fr"] + " " + FOREIGN["fr"]).encode())
    lines = [json.dumps({"id": "j1", "text": ENGLISH}), "{oops", json.dumps({"id": "j3"}),
             json.dumps({"id": "j4", "text": 7}), json.dumps({"id": "j5", "text": "x" * 1_100_000}),
             json.dumps({"id": "j1", "text": ENGLISH}), "  ", json.dumps({"text": ENGLISH}),
             json.dumps({"id": "a_good", "text": ENGLISH})]
    (folder / "m_batch.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    records |= {("m_batch.jsonl", n) for n, line in enumerate(lines, 1) if line.strip()}
    (folder / "n_table.csv").write_text(
        f'id,text\nc1,"{ENGLISH}"\nc2,\nj1,"{ENGLISH}"\n', encoding="utf-8")
    records |= {("n_table.csv", n) for n in (2, 3, 4)}
    return records


def test_every_record_of_a_mixed_folder_is_accounted_for_once(tiny_model, tmp_path):
    records = _mixed_folder(tmp_path)
    out = tmp_path / "out"
    run = score_path(tmp_path / "mixed", out, tiny_model, device="cpu", backend="torch",
                     progress=False)
    articles, errors = read_jsonl(out / ARTICLES), read_jsonl(out / ERRORS)
    keys = [record_key(a) for a in articles] + [record_key(ArticleError(**e)) for e in errors]
    assert len(keys) == len(set(keys)) == len(records) == 23
    assert set(keys) == records
    assert (run.n_articles, len(run.errors)) == (len(articles), len(errors)) == (10, 13)
    assert all(e["error"] for e in errors)
    flags = {a["article_id"]: a["flags"] for a in articles}
    assert flags == {"a_good": [], "f_latin1": ["invalid_utf8"], "g_bom": [], "h_utf16": [],
                     "j_runon": [], "k_page": ["html"], "l_french": ["not_english"],
                     "j1": [], "m_batch:8": [], "c1": []}
    duplicates = [(e["file"].rsplit("/", 1)[-1], e["line"], e["error"]) for e in errors
                  if "repeats" in e["error"]]
    assert duplicates == [
        ("m_batch.jsonl", 6, f"id 'j1' repeats the article at {tmp_path}/mixed/m_batch.jsonl:1"),
        ("m_batch.jsonl", 9, f"id 'a_good' repeats the article at {tmp_path}/mixed/a_good.txt"),
        ("n_table.csv", 4, f"id 'j1' repeats the article at {tmp_path}/mixed/m_batch.jsonl:1")]
    runon = [s for s in read_jsonl(out / SENTENCES) if s["article_id"] == "j_runon"]
    assert len(runon) > 100 and all(s["flags"] == ["cut"] for s in runon)
    report = (out / "report.html").read_text(encoding="utf-8")
    for flag in ("html", "invalid_utf8", "not_english", "cut"):
        assert FLAG_NOTES[flag] in report, flag
