"""Scoring new articles: input reading, batching and context in the classifier, the
outputs, the script, prediction shapes and calibration, on a tiny BERT trained through
the real training path."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, write_jsonl

from stancewatch import LABELS, StanceClassifier
from stancewatch import inference as inference_module
from stancewatch.articles import ArticleError, read_articles
from stancewatch.calibration import fit_temperature, softmax_with_temperature
from stancewatch.data import DataError
from stancewatch.metrics import expected_calibration_error
from stancewatch.scoring import score_path
from stancewatch.segment import model_text

# Built from the tiny BERT's vocabulary (see conftest) so that few tokens are unknown.
SHORT = "Norland threatened to destroy the dam within days."
MEDIUM = ("The talks on the port will resume in Geneva on Monday. Sudria declined to comment "
          "on the convoy. If Ostmark sends the convoy, relations will be ruined.")
LONG = " ".join(
    ["Officials accused Veloria of shelling the bridge overnight.",
     "The ministry condemned the garrison as a reckless provocation.",
     "Delegates from Tarsis met to discuss the pipeline budget.",
     "Should talks fail, Quenby will cut the shipment.",
     "The airfield was built in 1990 near the border.",
     "Any move on the dam would be regarded as war, Norland said."] * 4)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.load(tiny_model, device="cpu", backend="torch")


def test_offsets_index_the_article_text(classifier):
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))]
    texts.append("WASHINGTON - Mr. Hale said:\n- withdraw\n- release\n\nThe end…")
    assert len(texts) >= 4
    for text, result in zip(texts, classifier.score_articles(texts), strict=True):
        assert result["sentences"], "every article has sentences"
        assert [s["index"] for s in result["sentences"]] == list(range(len(result["sentences"])))
        for sentence in result["sentences"]:
            assert text[sentence["start"]:sentence["end"]] == sentence["text"]


def test_context_is_previous_sentence_of_same_article(classifier, monkeypatch):
    # What training with data.context=previous records; the module's model is reused
    # because training another would double this file's run time.
    classifier = StanceClassifier(classifier.model, {**classifier.meta, "context": "previous"})
    seen: dict[str, str | None] = {}
    logits = classifier.model.logits

    def spy(texts, contexts=None, batch_size=64):
        seen.update(zip(texts, contexts, strict=True))
        return logits(texts, contexts, batch_size)

    monkeypatch.setattr(classifier.model, "logits", spy)
    first = ["Norland attacked the port at dawn.", "**The port** was built in 1990.",
             "Sudria declined to comment."]
    second = ["Ostmark will respond unless the convoy stops.", "Talks resume on Monday."]
    list(classifier.score_articles([" ".join(first), "\n".join(second)]))
    expected = {}
    for sentences in (first, second):
        for before, sentence in zip([None, *sentences], sentences, strict=False):
            expected[model_text(sentence)] = model_text(before) if before else None
    assert seen == expected


def test_batching_restores_input_order(classifier):
    articles = [{"id": "long", "text": LONG}, {"id": "short", "text": SHORT},
                {"id": "medium", "text": MEDIUM}]
    together = list(classifier.score_articles(articles, batch_size=4))
    assert [r["article_id"] for r in together] == ["long", "short", "medium"]
    for article, result in zip(articles, together, strict=True):
        alone = classifier.score_article(article["text"], article["id"], batch_size=4)
        assert [s["text"] for s in result["sentences"]] == [s["text"] for s in alone["sentences"]]
        np.testing.assert_allclose(
            [[s["scores"][label] for label in LABELS] for s in result["sentences"]],
            [[s["scores"][label] for label in LABELS] for s in alone["sentences"]], atol=1e-5)


def test_folder_with_bad_files_scores_the_rest_and_exits_1(tiny_model, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a_good.txt").write_text(MEDIUM, encoding="utf-8")
    (folder / "b_latin1.txt").write_bytes("Sudria d\xe9clined to comment.".encode("latin-1"))
    (folder / "c_empty.txt").write_text(" \n", encoding="utf-8")
    (folder / "d_good.txt").write_text(SHORT, encoding="utf-8")
    (folder / "e_binary.txt").write_bytes(bytes(range(256)))
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "score.py"), f"input={folder}",
         f"output_dir={out}", f"model_dir={tiny_model}", "device=cpu"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-3000:]
    errors = read_jsonl(out / "errors.jsonl")
    assert [(Path(e["file"]).name, e["line"]) for e in errors] == [
        ("c_empty.txt", None), ("e_binary.txt", None)]
    assert errors[0]["error"] == "empty text"
    assert errors[1]["error"] == "binary data, not text (a NUL byte at offset 0)"
    assert "c_empty.txt" in done.stderr and "e_binary.txt" in done.stderr
    articles = read_jsonl(out / "articles.jsonl")
    assert [(a["article_id"], a["flags"]) for a in articles] == [
        ("a_good", []), ("b_latin1", ["invalid_utf8"]), ("d_good", [])]
    assert {s["article_id"] for s in read_jsonl(out / "sentences.jsonl")} == {
        "a_good", "b_latin1", "d_good"}
    assert (out / "report.html").is_file()
    assert "report.html" in done.stdout


def test_jsonl_errors_name_their_lines(tmp_path):
    lines = [
        json.dumps({"id": "x1", "text": SHORT, "title": "T", "date": "2025-01-14",
                    "source": "Wire"}).encode(),
        b"{not json",
        b"",
        json.dumps(["a list"]).encode(),
        json.dumps({"id": "x2"}).encode(),
        json.dumps({"id": "x3", "text": "   "}).encode(),
        b'{"id": "x4", "text": "caf\xe9 talks resumed."}',
        json.dumps({"id": "x5", "text": 42}).encode(),
        json.dumps({"text": MEDIUM}).encode(),
    ]
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = list(read_articles(path))
    errors = [(i.line, i.error) for i in items if isinstance(i, ArticleError)]
    assert [line for line, _ in errors] == [2, 4, 5, 6, 8]
    assert "not valid JSON" in errors[0][1]
    assert "JSON object" in errors[1][1]
    assert "'text' is missing" in errors[2][1]
    assert errors[3][1] == "empty text"
    assert errors[4][1] == "'text' must be a string, got int"
    articles = [i for i in items if not isinstance(i, ArticleError)]
    where = {"file": str(path), "flags": []}
    assert articles == [
        {"id": "x1", "text": SHORT, "title": "T", "date": "2025-01-14", "source": "Wire",
         "line": 1, **where},
        {"id": "x4", "text": "caf\ufffd talks resumed.", **where, "line": 7,
         "flags": ["invalid_utf8"]},
        {"id": "batch:9", "text": MEDIUM, "line": 9, **where},
    ]


def test_unusable_input_path_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_articles(tmp_path / "missing.txt")
    with pytest.raises(DataError, match="no files in this folder"):
        read_articles(tmp_path)
    (tmp_path / "notes.md").write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="expected a folder or a file of one of these types"):
        read_articles(tmp_path / "notes.md")


def test_missing_default_model_says_how_to_train_it(tmp_path, monkeypatch):
    default = tmp_path / "models" / "default"
    monkeypatch.setattr(inference_module, "DEFAULT_MODEL_DIR", default)
    with pytest.raises(FileNotFoundError, match="make model"):
        score_path(ROOT / "examples", tmp_path / "out",
                   model_dir=tmp_path / "models" / ".." / "models" / "default")


class _ArticleText(HTMLParser):
    """The text inside each ``div.text`` of a report, with entities decoded."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif tag == "div" and ("class", "text") in attrs:
            self.depth = 1
            self.texts.append("")

    def handle_endtag(self, tag):
        self.depth = max(0, self.depth - 1)

    def handle_data(self, data):
        if self.depth:
            self.texts[-1] += data


def test_jsonl_input_writes_every_output(tiny_model, tmp_path):
    hostile = "Officials accused <Veloria> & \"Tarsis\" of shelling the bridge.\n\n" + LONG
    rows = [{"id": "calm", "text": "  " + MEDIUM + "\n", "title": "Calm <talks>"},
            {"id": "tense", "text": hostile, "date": "2025-03-03", "source": "Wire"}]
    path = write_jsonl(tmp_path / "articles.jsonl", rows)
    run = score_path(path, tmp_path / "out", tiny_model, fmt="csv", device="cpu",
                     progress=False)
    assert not run.errors
    out = tmp_path / "out"
    sentences = read_jsonl(out / "sentences.jsonl")
    assert set(sentences[0]) == {"article_id", "index", "start", "end", "text", "label",
                                 "score", "scores", "flags"}
    assert len(sentences) == run.n_sentences
    articles = read_jsonl(out / "articles.jsonl")
    assert [a["article_id"] for a in articles] == ["calm", "tense"]
    assert articles[0]["title"] == "Calm <talks>" and "date" not in articles[0]
    assert (articles[1]["date"], articles[1]["source"]) == ("2025-03-03", "Wire")
    assert set(articles[1]) >= {"n_sentences", "counts", "threat_score", "top_threats"}
    with (out / "sentences.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(sentences)
    assert float(table[0]["scores.hostile"]) == pytest.approx(sentences[0]["scores"]["hostile"])
    with (out / "articles.csv").open(encoding="utf-8", newline="") as handle:
        assert [r["article_id"] for r in csv.DictReader(handle)] == ["calm", "tense"]
    html = run.report.read_text(encoding="utf-8")
    assert "<Veloria" not in html
    assert "&lt;Veloria&gt; &amp; &quot;Tarsis&quot;" in html
    assert "http://" not in html and "https://" not in html and "<link" not in html
    parser = _ArticleText()
    parser.feed(html)
    ranked = sorted(rows, key=lambda r: -next(
        a["threat_score"] for a in articles if a["article_id"] == r["id"]))
    assert parser.texts == [r["text"] for r in ranked], "text between sentences is kept"


def test_predict_follows_the_pipeline_shapes(classifier):
    from transformers import pipeline

    texts = [SHORT, "Talks resume in Geneva on Monday."]
    one = classifier.predict(texts)
    assert [set(r) for r in one] == [{"label", "score"}] * 2
    single = classifier.predict(texts[0])
    assert isinstance(single, dict) and single == pytest.approx(one[0])
    ranked = classifier.predict(texts, top_k=None)
    assert [len(r) for r in ranked] == [3, 3]
    for row in ranked:
        assert {r["label"] for r in row} == set(LABELS)
        assert [r["score"] for r in row] == sorted((r["score"] for r in row), reverse=True)
        assert sum(r["score"] for r in row) == pytest.approx(1.0)
    assert len(classifier.predict(texts[0], top_k=None)) == 3
    assert [len(r) for r in classifier.predict(texts, top_k=2)] == [2, 2]
    # Same structure and ranking as the pipeline; the scores differ by the temperature.
    pipe = pipeline("text-classification", model=classifier.model.model,
                    tokenizer=classifier.model.tokenizer, device="cpu")
    assert [r["label"] for r in pipe(texts)] == [r["label"] for r in one]
    assert [[r["label"] for r in row] for row in pipe(texts, top_k=None)] == [
        [r["label"] for r in row] for row in ranked]
    assert [len(row) for row in pipe(texts, top_k=2)] == [2, 2]


def test_temperature_scaling_calibrates_an_overconfident_model():
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 1.5
    noisy = np.where(rng.random(n) < 0.3, rng.integers(0, 3, n), y)
    overconfident = 4 * logits
    temperature = fit_temperature(overconfident, noisy)
    before = expected_calibration_error(softmax_with_temperature(overconfident), noisy)
    after = expected_calibration_error(softmax_with_temperature(overconfident, temperature),
                                       noisy)
    assert temperature > 1
    assert after < before / 2


def test_threat_score_is_the_mean_of_the_top_three_sentence_threats(classifier, monkeypatch):
    from stancewatch.inference import threat_score

    probabilities = np.array([[0.1, 0.1, 0.8], [0.6, 0.3, 0.1], [0.2, 0.0, 0.8],
                              [0.0, 0.55, 0.45], [0.05, 0.05, 0.9]])
    assert threat_score(probabilities) == pytest.approx((0.9 + 0.55 + 0.2) / 3)
    assert threat_score(probabilities[:2]) == pytest.approx((0.9 + 0.2) / 2)
    assert threat_score(np.zeros((0, 3))) == 0.0
    order = ["One.", "Two.", "Three.", "Four.", "Five."]
    monkeypatch.setattr(classifier, "predict_proba", lambda texts, contexts, batch_size:
                        probabilities[[order.index(t) for t in texts]])
    summary = classifier.score_article(" ".join(order))["summary"]
    assert summary["threat_score"] == pytest.approx((0.9 + 0.55 + 0.2) / 3)
    assert summary["counts"] == {"hostile": 1, "conditional": 1, "neutral": 3}
    assert [(t["text"], round(t["threat"], 6)) for t in summary["top_threats"]] == [
        ("Two.", 0.9), ("Four.", 0.55)], "neutral sentences are not listed as threats"
