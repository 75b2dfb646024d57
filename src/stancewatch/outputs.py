"""A scoring run's output files, written as articles are scored, and resumed after a crash.

``sentences.jsonl``, ``articles.jsonl`` and ``errors.jsonl`` grow one article (or one
failed input) at a time: an article's sentence rows, then its summary row, each written
whole and flushed, so memory stays flat however large the input and a run that dies keeps
every article written before it. An article is complete when its ``articles.jsonl`` row
is there. ``score.json`` says what the run scores with, and whether it finished.

A resumed run (``resume=true``) first cuts the files back to what is complete: a line torn
by the kill, and the sentence rows of an article whose summary row was not written, go.
It then skips every input record already in ``articles.jsonl`` or ``errors.jsonl``.
Everything else (CSV, Parquet, ``report.html``) is built at the end from those files.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import heapq
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .articles import ARTICLE_FIELDS, MAX_ARTICLE_BYTES, ArticleError, Reading, record_key
from .records import flatten, now
from .report import REPORT_FILE, article_row, sentence_rows, write_html

SENTENCES, ARTICLES, ERRORS = "sentences.jsonl", "articles.jsonl", "errors.jsonl"
RUN_FILE = "score.json"
# Articles whose full text the report shows, most threatening first: beyond a few
# hundred a page is too long to read (and to hold in memory); all are in articles.jsonl.
REPORT_ARTICLES = 200
_ROW_FIELDS = ("article_id", *ARTICLE_FIELDS, "flags")
# Free space below which a run does not start: its outputs would not fit.
MIN_FREE_BYTES = 16 << 20


def result_from_rows(article: dict, sentences: list[dict], text: str) -> dict:
    """A scored article as ``score_articles`` gave it (with its ``text``), rebuilt from
    its written rows."""
    return {**{k: article[k] for k in _ROW_FIELDS if k in article},
            "summary": {k: v for k, v in article.items() if k not in _ROW_FIELDS},
            "sentences": [{k: v for k, v in row.items() if k != "article_id"}
                          for row in sentences],
            "text": text}


def read_rows(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def _line(row: dict) -> bytes:
    return (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")


def check_writable(output_dir: Path) -> None:
    """Fail now, before any model work, when ``output_dir`` cannot take the outputs:
    not creatable, not writable, or (nearly) full."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(output_dir).free
        if free < MIN_FREE_BYTES:
            raise OSError(errno.ENOSPC, f"only {free:,} bytes free, and a run needs at least "
                                        f"{MIN_FREE_BYTES:,}")
        with tempfile.TemporaryFile(dir=output_dir) as probe:
            probe.write(b"\0" * (1 << 16))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as err:
        raise OSError(err.errno, f"{output_dir}: cannot write the outputs there "
                                 f"({err.strerror or err})") from None


@dataclass
class Written:
    """What an output folder already holds: the input records done, where each article
    came from (for duplicate ids) and the errors, with the row counts."""

    done: set[tuple[str, int | None]] = field(default_factory=set)
    articles: dict[str, str] = field(default_factory=dict)
    errors: list[ArticleError] = field(default_factory=list)
    n_articles: int = 0
    n_sentences: int = 0


def _whole_rows(path: Path) -> tuple[list[dict], list[int]]:
    """The rows of a JSON Lines output up to the first torn or unreadable line, and the
    byte offset just past each."""
    rows, ends = [], []
    if not path.is_file():
        return rows, ends
    with path.open("rb") as handle:
        for raw in handle:
            try:
                row = json.loads(raw) if raw.endswith(b"\n") else None
            except ValueError:
                row = None
            if not isinstance(row, dict):
                break
            rows.append(row)
            ends.append((ends[-1] if ends else 0) + len(raw))
    return rows, ends


def _line_ends(path: Path, wanted: int) -> list[int]:
    """Byte offsets just past each of the first ``wanted`` complete lines of ``path``."""
    ends, position = [], 0
    if wanted == 0 or not path.is_file():
        return ends
    with path.open("rb") as handle:
        while len(ends) < wanted and (block := handle.read(1 << 20)):
            start = 0
            while len(ends) < wanted and (newline := block.find(b"\n", start)) >= 0:
                ends.append(position + newline + 1)
                start = newline + 1
            position += len(block)
    return ends


def _truncate(path: Path, size: int) -> None:
    if path.is_file() and path.stat().st_size != size:
        with path.open("r+b") as handle:
            handle.truncate(size)
            os.fsync(handle.fileno())


def mend_jsonl(path: Path) -> list[dict]:
    """The whole rows of a JSON Lines file that a kill may have cut short, cutting the
    file back to them (a torn or unreadable line and all after it go)."""
    rows, ends = _whole_rows(path)
    _truncate(path, ends[-1] if ends else 0)
    return rows


def reconcile(output_dir: Path) -> Written:
    """Cut the outputs of an interrupted run back to complete articles and errors (see
    the module docstring) and say what they hold."""
    articles, article_ends = _whole_rows(output_dir / ARTICLES)
    needed = [row.get("n_sentences", 0) for row in articles]
    ends = _line_ends(output_dir / SENTENCES, sum(needed))
    # Articles whose sentence rows are all there (after a power cut, a summary row can be
    # on disk before the sentence rows written ahead of it).
    kept, total = 0, 0
    while kept < len(articles) and total + needed[kept] <= len(ends):
        total += needed[kept]
        kept += 1
    articles = articles[:kept]
    last = next((row for row in reversed(articles) if row.get("n_sentences")), None)
    if last is not None:
        with (output_dir / SENTENCES).open("rb") as handle:
            handle.seek(ends[total - 2] if total > 1 else 0)
            if json.loads(handle.readline()).get("article_id") != last["article_id"]:
                raise ValueError(f"{output_dir}: {SENTENCES} does not match {ARTICLES}, so "
                                 "these outputs cannot be resumed: score into a new output_dir")
    _truncate(output_dir / ARTICLES, article_ends[kept - 1] if kept else 0)
    _truncate(output_dir / SENTENCES, ends[total - 1] if total else 0)
    errors, error_ends = _whole_rows(output_dir / ERRORS)
    _truncate(output_dir / ERRORS, error_ends[-1] if error_ends else 0)
    written = Written(n_articles=len(articles), n_sentences=total)
    for row in articles:
        written.done.add(record_key(row))
        written.articles[row["article_id"]] = _where(row)
    for row in errors:
        error = ArticleError(**{k: row.get(k) for k in ("file", "error", "line")})
        written.errors.append(error)
        written.done.add(record_key(error))
    return written


def _where(item: dict) -> str:
    return f"{item['file']}:{item['line']}" if item.get("line") is not None else item["file"]


class ScoreWriter:
    """Appends each scored article's rows to the JSON Lines outputs as it comes; with
    ``resume``, after the rows an interrupted run left (see :func:`reconcile`).

    Each article's rows are written with one write per file, flushed, and synced to disk
    (``fsync``): after a kill or a power cut, the files hold whole articles up to the last
    one written."""

    def __init__(self, output_dir: str | Path, resume: bool = False, sync: bool = True) -> None:
        self.output_dir = Path(output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.sync = sync
        self.previous = reconcile(self.output_dir) if resume else Written()
        mode = "ab" if resume else "wb"
        self._files: dict[str, BinaryIO] = {
            name: (self.output_dir / name).open(mode) for name in (SENTENCES, ARTICLES, ERRORS)}
        self.n_articles = self.previous.n_articles
        self.n_sentences = self.previous.n_sentences
        self.errors: list[ArticleError] = list(self.previous.errors)
        self._ids = dict(self.previous.articles)

    def _append(self, name: str, rows: Iterable[dict]) -> None:
        handle = self._files[name]
        try:
            handle.write(b"".join(map(_line, rows)))
            handle.flush()
            if self.sync:
                os.fsync(handle.fileno())
        except OSError as err:
            raise OSError(err.errno, f"{self.output_dir / name}: cannot write "
                                     f"({err.strerror or err}); the {self.n_articles} articles "
                                     "before are complete: make room, then score again with "
                                     "resume=true") from None

    def write(self, result: dict) -> ArticleError | None:
        """Write a scored article; or, when its id repeats an earlier article's (ids key
        the rows), an error, which is returned."""
        if (earlier := self._ids.get(result["article_id"])) is not None:
            return self.error(ArticleError(result.get("file", ""), f"id {result['article_id']!r}"
                                           f" repeats the article at {earlier}",
                                           result.get("line")))
        rows = sentence_rows(result)
        self._append(SENTENCES, rows)
        self._append(ARTICLES, [article_row(result)])
        self._ids[result["article_id"]] = _where(result)
        self.n_articles += 1
        self.n_sentences += len(rows)
        return None

    def error(self, error: ArticleError) -> ArticleError:
        self._append(ERRORS, [error.to_dict()])
        self.errors.append(error)
        return error

    def close(self) -> None:
        for handle in self._files.values():
            # Every append is flushed, so only the rows of a write that already failed (and
            # raised, saying what was kept) can be left in a buffer: closing drops them.
            with contextlib.suppress(OSError):
                handle.close()

    def __enter__(self) -> ScoreWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_run(output_dir: Path, settings: dict, resume: bool) -> None:
    """Check that ``output_dir`` can take a run (or continue one, with ``resume``) and
    record the run's ``settings`` there. An unfinished run is not overwritten."""
    check_writable(output_dir)
    path = output_dir / RUN_FILE
    record = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    if resume and record is None and (output_dir / ARTICLES).exists():
        raise ValueError(f"{output_dir}: resume=true, but {RUN_FILE} is missing: these outputs "
                         "cannot be checked against this run; score into a new output_dir")
    if resume and record is not None:
        for key, value in settings.items():
            if record["settings"].get(key) != value:
                raise ValueError(f"{output_dir}: resume=true, but it was scored with {key}="
                                 f"{record['settings'].get(key)!r}, not {value!r}: resume with "
                                 "the same settings or score into a new output_dir")
    if not resume and record is not None and record.get("finished") is None:
        raise ValueError(f"{output_dir} holds an unfinished scoring run: resume=true continues "
                         "it; to start again, delete the folder or choose another output_dir")
    started = record["started"] if resume and record else now()
    path.write_text(json.dumps({"settings": settings, "started": started, "finished": None},
                               indent=2), encoding="utf-8")


def finish_run(output_dir: Path) -> None:
    path = output_dir / RUN_FILE
    record = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**record, "finished": now()}, indent=2), encoding="utf-8")


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
    # As a struct array, so that a column only later rows have (a title, a date) is kept:
    # Table.from_pylist takes the columns of the first row alone.
    pq.write_table(pa.Table.from_struct_array(pa.array(rows)) if rows else pa.table({}), target)


def _report(output_dir: Path, input_path: str | Path | None, max_article_bytes: int | None,
            errors: list[ArticleError], info: dict[str, str], n_articles: int,
            limit: int | None) -> Path:
    ranked = most_threatening(output_dir, limit)
    wanted = {row["article_id"]: [] for row in ranked}
    for row in read_rows(output_dir / SENTENCES):
        if row["article_id"] in wanted:
            wanted[row["article_id"]].append(row)
    texts: dict[str, str] = {}
    if input_path is not None:
        places = {row["article_id"]: record_key(row) for row in ranked}
        for item in Reading(max_article_bytes).articles(input_path):
            if not isinstance(item, ArticleError) and places.get(item["id"]) == record_key(item):
                texts[item["id"]] = item["text"]
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
           report_articles: int | None = REPORT_ARTICLES,
           max_article_bytes: int | None = MAX_ARTICLE_BYTES) -> Path:
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
    return _report(out, input_path, max_article_bytes, writer.errors, info, writer.n_articles,
                   report_articles)
