"""Streaming outputs: rows written as each article is scored, what a crash leaves,
Parquet in and out, and the report built from the written rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_jsonl

from stancewatch.articles import ArticleError, read_articles
from stancewatch.outputs import ARTICLES, SENTENCES
from stancewatch.scoring import LocalEngine, score_path

ARTICLES_IN = [
    {"id": f"a{i}", "text": f"Norland threatened to destroy the dam {i} times. If Sudria sends "
                            f"the convoy, relations will be ruined. The talks resume on day {i}.",
     "source": "Wire" if i % 2 else None}
    for i in range(6)
]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class _Crashing(LocalEngine):
    """Dies after ``after`` articles, looking at the outputs each time one comes."""

    def __init__(self, output_dir: Path, after: int) -> None:
        super().__init__()
        self.output_dir, self.after, self.seen = output_dir, after, []

    def results(self, input_path, settings, reading):
        for number, item in enumerate(super().results(input_path, settings, reading)):
            if number:
                # The previous article is on disk before the next one is handed over.
                self.seen.append(len(read_jsonl(self.output_dir / ARTICLES)))
            if number == self.after:
                raise RuntimeError("killed")
            yield item


def test_each_article_is_on_disk_as_soon_as_it_is_scored(tiny_model, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ARTICLES_IN)
    out = tmp_path / "out"
    engine = _Crashing(out, after=4)
    with pytest.raises(RuntimeError, match="killed"):
        score_path(path, out, tiny_model, device="cpu", engine=engine, progress=False)
    assert engine.seen == [1, 2, 3, 4]
    articles = read_jsonl(out / ARTICLES)
    assert [a["article_id"] for a in articles] == ["a0", "a1", "a2", "a3"]
    sentences = read_jsonl(out / SENTENCES)
    assert len(sentences) == sum(a["n_sentences"] for a in articles), "no article is half there"


def test_parquet_in_and_out_and_a_capped_report(tiny_model, tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rows = [*ARTICLES_IN, {"id": "bad", "text": "   "}, {"id": "a1", "text": "Again."}]
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    items = list(read_articles(path))
    errors = [i for i in items if isinstance(i, ArticleError)]
    assert [(e.line, e.error) for e in errors] == [(7, "empty text")]
    assert items[1] == {"id": "a1", "text": ARTICLES_IN[1]["text"], "source": "Wire",
                        "file": str(path), "line": 2, "flags": []}

    out = tmp_path / "out"
    run = score_path(path, out, tiny_model, fmt="parquet", device="cpu", progress=False,
                     report_articles=2, top=3)
    assert (run.n_articles, len(run.errors)) == (6, 2)
    assert run.errors[1] == ArticleError(str(path), f"id 'a1' repeats the article at {path}:2", 8)
    assert pq.read_table(out / "sentences.parquet").to_pylist() == read_jsonl(out / SENTENCES)
    # a0 has no source: the column comes from the rows after it (null for a0)
    table = pq.read_table(out / "articles.parquet").to_pylist()
    assert [{k: v for k, v in row.items() if v is not None} for row in table] == read_jsonl(
        out / ARTICLES)
    assert [row["source"] for row in table] == [a["source"] for a in ARTICLES_IN]
    assert [r["threat_score"] for r in run.top] == sorted(
        (a["threat_score"] for a in read_jsonl(out / ARTICLES)), reverse=True)[:3]
    html = run.report.read_text(encoding="utf-8")
    assert html.count('<section class="article"') == 2
    assert "the 2 most threatening of 6 articles" in html
    n_sentences = sum(row["n_sentences"] for row in read_jsonl(out / ARTICLES))
    assert f"6 articles · 2 inputs failed · {n_sentences} sentences" in html
    for row in run.top[:2]:
        assert f"id {row['article_id']}" in html
    assert f"id {run.top[2]['article_id']}" not in html
