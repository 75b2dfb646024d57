"""Real text joined by id: news and speech sets, what trains, what selects, source weights."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import make_news, make_rows, write_jsonl

from stancewatch import StanceClassifier
from stancewatch.data import DataError, StanceData, load_real
from stancewatch.sources import news_sentences


@pytest.fixture()
def news(tmp_path):
    return make_news(tmp_path)


def test_news_text_is_sliced_by_offsets(tmp_path, news):
    articles, labels = news
    rows = load_real([labels], {"news": articles})
    by_id = {s["id"]: s for s in news_sentences(articles)}
    assert len(rows) == len(by_id)
    first = json.loads(articles.read_text(encoding="utf-8").splitlines()[0])
    for row in rows:
        start, end = map(int, row["id"].rsplit(":", 1)[1].split("-"))
        if row["article_id"] == f"news:{first['id']}":
            assert first["text"][start:end] == row["text"]
        assert row["source"] == "news"
        assert row["context"] == by_id[row["id"]]["context"]


def test_a_label_in_two_files_is_an_error(tmp_path, news):
    articles, labels = news
    with pytest.raises(DataError, match="also labelled in another file"):
        load_real([labels, labels], {"news": articles})


def test_held_out_sets_are_named_by_group_and_split(tmp_path, news):
    articles, labels = news
    data = StanceData(corpus=str(write_jsonl(tmp_path / "c.jsonl", make_rows(10))),
                      real_labels=[str(labels)], news_path=str(articles),
                      train_on=["authored", "news"], select_on=["news_dev", "speech_dev"],
                      source_weights={"news": 3.0})
    assert set(data.eval_sets) == {"validation", "test", "news_dev", "news_test"}
    assert data.monitor_sets == ["validation", "news_dev"]
    assert data.selection_sets == ["news_dev"]
    assert data.selection == data.splits["news_dev"]
    sources = data.train_sources
    assert set(sources) == {"authored", "news"} and sources["news"] > 0
    weights = {r["source"]: r["weight"] for r in data.splits["train"]}
    assert weights == {"authored": 1.0, "news": 3.0}
    only_news = StanceData(corpus=str(tmp_path / "c.jsonl"), real_labels=[str(labels)],
                           news_path=str(articles), train_on=["news"])
    assert only_news.train_sources == {"news": sources["news"]}


def test_unknown_sources_are_rejected(tmp_path):
    corpus = str(write_jsonl(tmp_path / "c.jsonl", make_rows(10)))
    with pytest.raises(ValueError, match="data.train_on: unknown source 'blogs'"):
        StanceData(corpus=corpus, train_on=["authored", "blogs"])
    with pytest.raises(ValueError, match="data.source_weights: unknown source 'wire'"):
        StanceData(corpus=corpus, source_weights={"wire": 2.0})


def test_real_dev_selects_and_calibrates_and_news_is_reported(train_tiny, news):
    articles, labels = news
    run_dir = train_tiny("data=authored_real", f"data.real_labels=[{labels}]",
                         f"data.news_path={articles}", "trainer.eval_steps=2")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert {"test", "validation", "news_dev", "news_test"} <= set(metrics)
    assert metrics["calibration"]["fitted_on"] == ["news_dev"]
    assert metrics["train"]["sources"]["news"] > 0
    assert (run_dir / "predictions_news_test.jsonl").is_file()
    meta = StanceClassifier.load(run_dir / "model").meta
    assert meta["selected_on"] == ["news_dev"]
    assert meta["train_sources"] == metrics["train"]["sources"]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["train"]["sources"] == metrics["train"]["sources"]
    with (run_dir / "log_history.csv").open(encoding="utf-8") as handle:
        columns = next(csv.reader(handle))
    # curves of the authored validation split and the real news dev set, side by side;
    # never of a test set
    assert {"eval_selection_macro_f1", "eval_validation_macro_f1",
            "eval_news_dev_macro_f1"} <= set(columns)
    assert not any("test" in column for column in columns)


def test_source_weights_reach_the_loss(train_tiny, tmp_path):
    """With every sentence weighted 0 the loss is 0, so nothing moves (no weight decay)."""
    still = train_tiny("data.source_weights.authored=0.0", "trainer.weight_decay=0.0",
                       "trainer.lr=1e-2", "seed=3", run_dir=tmp_path / "still")
    moved = train_tiny("trainer.weight_decay=0.0", "trainer.lr=1e-2", "seed=3",
                       run_dir=tmp_path / "moved")
    start = train_tiny("trainer.weight_decay=0.0", "trainer.max_steps=1", "trainer.lr=0.0",
                       "seed=3", run_dir=tmp_path / "start")
    probe = ["Norland threatened to destroy the port within days."]
    scores = {name: StanceClassifier.load(d / "model", backend="torch").model.logits(probe)
              for name, d in (("still", still), ("moved", moved), ("start", start))}
    assert scores["still"] == pytest.approx(scores["start"], abs=1e-6)
    assert scores["moved"] != pytest.approx(scores["start"], abs=1e-3)
