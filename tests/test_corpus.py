"""Checks on the committed data: the authored corpus and the real-text labels."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict

import pytest
from conftest import ROOT, SHARED
from sklearn.feature_extraction.text import TfidfVectorizer

from stancewatch.data import NEWS_SHARES, load_real, read_jsonl, split_for_article
from stancewatch.labels import LABELS
from stancewatch.segment import split_sentences
from stancewatch.sources import detokenize

CORPUS = ROOT / "data" / "corpus.jsonl"
REAL = ROOT / "data" / "real_labels.jsonl"
UNGDC = SHARED / "data" / "ungdc_2024"
UNSCON = SHARED / "data" / "unscon" / "conflict_annotations_sentences.csv"
SEED = SHARED / "examples" / "seed_article.txt"
KEYS = {"id", "article_id", "position", "text", "label", "split", "hard_case", "domain",
        "region", "register", "parties"}
HARD_CASES = {
    "even_if": "hostile", "writer_hypothetical": "neutral", "economic_forecast": "neutral",
    "domestic_if": "neutral", "conditional_pledge": "conditional", "veiled_threat": "hostile",
    "reported_threat": "hostile", "rhetorical_if": "hostile", "protest_targeted": "hostile",
    "protest_untargeted": "neutral", "protest_conditional": "conditional", "appeal": "neutral",
    "coercive_demand": "hostile", "legal_procedure": "neutral", "legal_hostile": "hostile",
    "refusal": "neutral", "rejection_accusation": "hostile",
    "neighbour_condition": "conditional", "mixed": None,
}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return read_jsonl(CORPUS)


def _vectors(texts: list[str], fitted_on: list[str]):
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    vectorizer.fit(fitted_on)
    return vectorizer.transform(texts)


def test_schema_and_labels(rows):
    for row in rows:
        assert set(row) == KEYS, row["id"]
        assert row["label"] in LABELS
        assert row["split"] in {"train", "validation", "test"}
        assert row["id"] == f"{row['article_id']}-s{row['position']:02d}"
        assert row["split"] == split_for_article(row["article_id"])
        if row["hard_case"] is not None:
            expected = HARD_CASES[row["hard_case"]]
            assert expected in (None, row["label"]), row["id"]


def test_size_and_article_shape(rows):
    articles = defaultdict(list)
    for row in rows:
        articles[row["article_id"]].append(row)
    assert len(rows) >= 5000 and len(articles) >= 400
    for article_id, sentences in articles.items():
        assert 6 <= len(sentences) <= 20, article_id
        assert sorted(r["position"] for r in sentences) == list(range(len(sentences)))
        assert len({r["split"] for r in sentences}) == 1, f"{article_id} straddles splits"


def test_label_shares_are_near_real_news(rows):
    share = {label: n / len(rows) for label, n in Counter(r["label"] for r in rows).items()}
    assert 0.45 <= share["neutral"] <= 0.55
    assert 0.25 <= share["hostile"] <= 0.35
    assert 0.15 <= share["conditional"] <= 0.25


def test_every_hard_case_is_covered(rows):
    counts = Counter(r["hard_case"] for r in rows if r["hard_case"])
    assert set(counts) == set(HARD_CASES)
    assert min(counts.values()) >= 60, counts.most_common()[-3:]


def test_breadth(rows):
    first = {r["article_id"]: r for r in rows if r["position"] == 0}.values()
    assert len({" / ".join(sorted(r["parties"])) for r in first}) >= 40
    assert len({r["region"] for r in first}) >= 10
    assert len({r["domain"] for r in first}) == 13
    assert len({r["register"] for r in first}) == 6


def test_no_templates_or_repeats(rows):
    texts = [r["text"] for r in rows]
    assert len(set(texts)) == len(texts)
    openings = Counter(" ".join(re.findall(r"[\w']+", t.lower())[:5]) for t in texts)
    opening, count = openings.most_common(1)[0]
    assert count <= 0.01 * len(texts), opening


def test_no_near_duplicates_across_splits(rows):
    texts = [r["text"] for r in rows]
    vectors = _vectors(texts, texts)
    similar = (vectors @ vectors.T).tocoo()
    crossing = [(rows[i]["id"], rows[j]["id"], round(float(s), 3))
                for i, j, s in zip(similar.row, similar.col, similar.data, strict=True)
                if i < j and s > 0.85 and rows[i]["split"] != rows[j]["split"]]
    assert not crossing


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/examples/seed_article.txt absent")
def test_nothing_from_the_seed_article(rows):
    seed = [s.text for s in split_sentences(SEED.read_text(encoding="utf-8"))]
    texts = [r["text"] for r in rows]
    vectors = _vectors(texts + seed, texts + seed)
    similarity = vectors[: len(texts)] @ vectors[len(texts):].T
    assert similarity.max() < 0.6


def test_real_labels_file():
    labels = [json.loads(line) for line in REAL.read_text(encoding="utf-8").splitlines()]
    assert len(labels) >= 2000
    assert len({r["id"] for r in labels}) == len(labels)
    pattern = re.compile(r"^(ungdc:[A-Z]{2,3}:\d+-\d+|unscon:[\w.%()-]+:\d+-\d+)$")
    for row in labels:
        assert pattern.match(row["id"]), row["id"]
        assert row["label"] in LABELS and row["split"] in {"train", "dev"}
        assert "text" not in row, "real text is never committed"
    by_source = defaultdict(set)
    for row in labels:
        by_source[row["split"]].add(row["id"].rsplit(":", 1)[0])
    assert not by_source["train"] & by_source["dev"], "whole speeches are held out"


@pytest.mark.skipif(not (UNGDC.is_dir() and UNSCON.is_file()), reason="../shared data absent")
def test_real_text_is_rebuilt_exactly():
    rebuilt = load_real([REAL], {"ungdc": UNGDC, "unscon": UNSCON})
    with UNSCON.open(encoding="utf-8", newline="") as handle:
        source_text = {
            f"unscon:{r['file_id'].removeprefix('UNSC_').removesuffix('.txt')}:"
            f"{r['sentence_char_offsets']}": r["sentence_text"] for r in csv.DictReader(handle)}
    assert len(rebuilt) == len(REAL.read_text(encoding="utf-8").splitlines())
    for row in rebuilt:
        if row["id"].startswith("ungdc:"):
            code, span = row["id"].split(":")[1:]
            start, end = map(int, span.split("-"))
            speech = next(UNGDC.glob(f"{code}_*.txt")).read_text(encoding="utf-8")
            assert speech[start:end] == row["text"]
        else:
            assert row["text"] == detokenize(source_text[row["id"]])


@pytest.mark.parametrize(("tokenised", "text"), [
    ("Ukraine by force .  ", "Ukraine by force."),
    ('to call dissenters " bandits " and " terrorists " , and then', 
     'to call dissenters "bandits" and "terrorists", and then'),
    ("the Chair of the OSCE ( OSCE ) .", "the Chair of the OSCE (OSCE)."),
    ("Russia 's forces do n't stop a large - scale operation ;", 
     "Russia's forces don't stop a large-scale operation;"),
])
def test_detokenize(tokenised, text):
    assert detokenize(tokenised) == text


NEWS_LABELS = ROOT / "data" / "news_labels.jsonl"
NEWS = SHARED / "data" / "allsides_news" / "articles.jsonl"
NEWS_TAGS = set(HARD_CASES) | {"cooperative", "domestic_attack", "reported_conditional"}


@pytest.fixture(scope="module")
def news_labels() -> list[dict]:
    return [json.loads(line) for line in NEWS_LABELS.read_text(encoding="utf-8").splitlines()]


def test_news_labels_file(news_labels):
    pattern = re.compile(r"^news:[A-Za-z0-9]+:\d+-\d+$")
    assert len(news_labels) >= 4000
    assert len({r["id"] for r in news_labels}) == len(news_labels)
    articles = {r["id"].rsplit(":", 1)[0] for r in news_labels}
    assert len(articles) >= 400
    for row in news_labels:
        assert set(row) == {"id", "label", "split", "round", "sampled_by", "hard_case"}, row["id"]
        assert row["round"] in (1, 2) and (row["round"] == 1 or row["split"] == "train")
        assert pattern.match(row["id"]), row["id"]
        assert row["label"] in LABELS and row["hard_case"] in NEWS_TAGS | {None}
        # whole articles are held out: the split comes from the article id alone
        assert row["split"] == split_for_article(row["id"].rsplit(":", 1)[0], NEWS_SHARES)
    labels = Counter(r["label"] for r in news_labels)
    assert labels["conditional"] >= 400
    whole = sum(r["sampled_by"] == "whole_article" for r in news_labels)
    assert whole >= 0.4 * len(news_labels)
    assert {r["split"] for r in news_labels} == {"train", "dev", "test"}


@pytest.mark.skipif(not NEWS.is_file(), reason="../shared news absent")
def test_news_text_is_rebuilt_and_whole_articles_are_complete(news_labels):
    from stancewatch.sources import news_sentences

    rows = {r["id"]: r for r in load_real([NEWS_LABELS], {"news": NEWS})}
    assert len(rows) == len(news_labels)
    texts = {json.loads(line)["id"]: json.loads(line)["text"]
             for line in NEWS.read_text(encoding="utf-8").splitlines()}
    for sentence_id, row in rows.items():
        _, article, span = sentence_id.split(":")
        start, end = map(int, span.split("-"))
        assert texts[article][start:end] == row["text"]
    whole = {r["id"].rsplit(":", 1)[0] for r in news_labels if r["sampled_by"] == "whole_article"}
    every = {s["id"] for s in news_sentences(NEWS) if s["article_id"] in whole}
    assert every <= set(rows), "every sentence of a whole article is labelled"
