"""A scoring run's output files, written as articles are scored.

``sentences.jsonl``, ``articles.jsonl`` and ``errors.jsonl`` grow one article (or one
failed input) at a time, flushed at once, so memory stays flat however large the input
and a run that dies keeps every article written before it. An article's summary row is
written after all its sentence rows: an article is complete when its ``articles.jsonl``
row is there. Everything else (CSV, Parquet, ``report.html``) is built at the end from
those files.
"""

from __future__ import annotations

import csv
import heapq
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from .articles import OPTIONAL_FIELDS, ArticleError, read_articles
from .records import flatten
from .report import REPORT_FILE, article_row, sentence_rows, write_html

SENTENCES, ARTICLES, ERRORS = "sentences.jsonl", "articles.jsonl", "errors.jsonl"
# Articles whose full text the report shows, most threatening first: beyond a few
# hundred a page is too long to read (and to hold in memory); all are in articles.jsonl.
REPORT_ARTICLES = 200
_ARTICLE_FIELDS = ("article_id", *OPTIONAL_FIELDS)


def result_from_rows(article: dict, sentences: list[dict], text: str) -> dict:
    """A scored article as ``score_articles`` gave it (with its ``text``), rebuilt from
    its written rows."""
    return {**{k: article[k] for k in _ARTICLE_FIELDS if k in article},
            "summary": {k: v for k, v in article.items() if k not in _ARTICLE_FIELDS},
            "sentences": [{k: v for k, v in row.items() if k != "article_id"}
                          for row in sentences],
            "text": text}


def read_rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


class ScoreWriter:
    """Appends each scored article's rows to the JSON Lines outputs as it comes."""

    def __init__(self, output_dir: str | Path) -> None:
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._files: dict[str, IO[str]] = {
            name: (self.output_dir / name).open("w", encoding="utf-8")
            for name in (SENTENCES, ARTICLES, ERRORS)}
        self.n_articles = self.n_sentences = 0
        self.errors: list[ArticleError] = []

    def _append(self, name: str, rows: Iterable[dict]) -> None:
        # One write of whole lines, then a flush: a reader never sees half an article.
        handle = self._files[name]
        handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        handle.flush()

    def write(self, result: dict) -> None:
        rows = sentence_rows(result)
        self._append(SENTENCES, rows)
        self._append(ARTICLES, [article_row(result)])
        self.n_articles += 1
        self.n_sentences += len(rows)

    def error(self, error: ArticleError) -> None:
        self._append(ERRORS, [error.to_dict()])
        self.errors.append(error)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()

    def __enter__(self) -> ScoreWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def most_threatening(output_dir: Path, n: int | None) -> list[dict]:
    """The ``n`` (``None``: all) article rows with the highest threat score, highest
    first; ties keep input order."""
    rows = read_rows(output_dir / ARTICLES)
    if n is None:
        return sorted(rows, key=lambda row: -row["threat_score"])
    return heapq.nlargest(n, rows, key=lambda row: row["threat_score"])


def _csv(source: Path, target: Path) -> None:
    """Nested values flattened to dotted columns (``scores.hostile``); lists as JSON.
    Two passes over ``source``: the columns first, then the rows."""
    columns = list(dict.fromkeys(key for row in read_rows(source) for key in flatten(row)))
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flatten(row) for row in read_rows(source))


def _parquet(source: Path, target: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("format=parquet needs pyarrow: pip install pyarrow") from None
    rows = list(read_rows(source))
    pq.write_table(pa.Table.from_pylist(rows) if rows else pa.table({}), target)


def _report(output_dir: Path, input_path: str | Path | None, errors: list[ArticleError],
            info: dict[str, str], n_articles: int, limit: int | None) -> Path:
    ranked = most_threatening(output_dir, limit)
    wanted = {row["article_id"]: [] for row in ranked}
    for row in read_rows(output_dir / SENTENCES):
        if row["article_id"] in wanted:
            wanted[row["article_id"]].append(row)
    texts: dict[str, str] = {}
    if input_path is not None:
        texts = {item["id"]: item["text"] for item in read_articles(input_path)
                 if not isinstance(item, ArticleError) and item["id"] in wanted}
    results = [result_from_rows(row, wanted[row["article_id"]],
                                texts.get(row["article_id"], ""))
               for row in ranked]
    if len(ranked) < n_articles:
        info = {**info, "shown": f"the {len(ranked)} most threatening of {n_articles} "
                                 f"articles (all are in {ARTICLES})"}
    report = output_dir / REPORT_FILE
    write_html(report, results, errors, info, list(read_rows(output_dir / ARTICLES)))
    return report


def finish(writer: ScoreWriter, fmt: str, input_path: str | Path | None, info: dict[str, str],
           report_articles: int | None = REPORT_ARTICLES) -> Path:
    """Close ``writer``, then build the CSV or Parquet copies and ``report.html`` from the
    written rows (article texts are read again from ``input_path``); returns the report."""
    writer.close()
    out = writer.output_dir
    if fmt == "csv":
        _csv(out / SENTENCES, out / "sentences.csv")
        _csv(out / ARTICLES, out / "articles.csv")
    elif fmt == "parquet":
        _parquet(out / SENTENCES, out / "sentences.parquet")
        _parquet(out / ARTICLES, out / "articles.parquet")
    return _report(out, input_path, writer.errors, info, writer.n_articles, report_articles)
