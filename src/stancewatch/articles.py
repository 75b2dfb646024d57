"""Articles to score: a ``.txt`` or ``.html`` file, a JSON Lines, CSV or Parquet file, or a
folder of such files.

Readers yield one article dict (``id``, ``text``, ``file``, ``line``, ``flags``; from
JSON Lines, CSV and Parquet also ``title``, ``date``, ``source`` when given) or one
:class:`ArticleError` per input record, so that a bad record is reported and the others
still go through. A record is a whole ``.txt``/``.html`` file, or a line (JSON Lines), a
row (CSV, Parquet). Each file is read on its own (:meth:`Reading.file`), so that a
distributed engine can read files where it scores them. What happens to the text on the
way (encodings, HTML, flags) is in :mod:`stancewatch.cleaning`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

from .cleaning import decode_bytes, replace_surrogates, text_flags
from .data import DataError

OPTIONAL_FIELDS = ("title", "date", "source")
# What an article carries besides its text into its result and its articles.jsonl row: the
# optional fields and where it came from.
ARTICLE_FIELDS = (*OPTIONAL_FIELDS, "file", "line")
WHOLE_FILE = (".txt", ".html", ".htm")
SUFFIXES = (*WHOLE_FILE, ".jsonl", ".csv", ".parquet")
# The largest article read: 30 times the longest news article or UN speech in ../shared
# (34 kB). A larger one is rarely an article (a whole archive in one file, a data dump)
# and would take minutes to score and make a report too large to open.
MAX_ARTICLE_BYTES = 1_000_000


@dataclass(frozen=True)
class ArticleError:
    """An input that could not be scored: which file (and line), and why."""

    file: str
    error: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.error}"

    def to_dict(self) -> dict:
        return asdict(self)


def record_key(item: dict | ArticleError) -> tuple[str, int | None]:
    """Which input record an article, an error or an output row comes from: its file's
    name and its line (``None`` for a whole file). Unique within one input."""
    if isinstance(item, ArticleError):
        return Path(item.file).name, item.line
    return Path(item["file"]).name, item.get("line")


def _over(size: int | str, limit: int) -> str:
    return (f"{size} bytes, over max_article_bytes={limit:,} (split it into articles, or "
            "raise max_article_bytes)")


def _article(text: object, article_id: object, fields: dict, file: str, line: int | None,
             flags: list[str], limit: int | None) -> dict:
    """An article from a record's values; raises ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError("'text' is missing" if text is None else
                         f"'text' must be a string, got {type(text).__name__}")
    flags = list(flags)

    def clean(value: str) -> str:
        value, bad = replace_surrogates(value)
        flags.extend(bad)
        return value

    text = clean(text)
    if limit is not None and (size := len(text.encode("utf-8"))) > limit:
        raise ValueError(f"'text' is {_over(f'{size:,}', limit)}")
    text, html = text_flags(text)
    if not text.strip():
        raise ValueError("no text left once HTML is removed" if html else "empty text")
    if not isinstance(article_id, str | int) or isinstance(article_id, bool) or article_id == "":
        raise ValueError(f"'id' must be a non-empty string or an integer, got {article_id!r}")
    extra = {k: clean(str(fields[k])) for k in OPTIONAL_FIELDS if fields.get(k) is not None}
    return {"id": clean(str(article_id)), "text": text, **extra, "file": file, "line": line,
            "flags": sorted(set(flags + html))}


def _size(handle: BinaryIO) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


def _whole_file(name: str, handle: BinaryIO, limit: int | None) -> dict:
    """One article from a text or HTML file; its id is the file's stem."""
    raw = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(raw) > limit:
        size = _size(handle)
        raise ValueError(f"the file is {_over(f'{size:,}' if size else f'over {limit:,}', limit)}")
    if not raw:
        raise ValueError("empty file")
    text, flags = decode_bytes(raw)
    return _article(text, Path(name).stem, {}, name, None, flags, None)


def _lines(handle: BinaryIO, limit: int | None) -> Iterator[tuple[int, bytes | int]]:
    """``(line number, bytes)`` of each line, or ``(line number, size)`` for a line over
    ``limit`` bytes, which is skipped without being held in memory."""
    number = 0
    while raw := handle.readline() if limit is None else handle.readline(limit + 1):
        number += 1
        if limit is None or raw.endswith(b"\n") or len(raw) <= limit:
            yield number, raw
            continue
        size = len(raw)
        while not raw.endswith(b"\n") and (raw := handle.readline(1 << 20)):
            size += len(raw)
        yield number, size


def _jsonl_records(name: str, handle: BinaryIO, limit: int | None
                   ) -> Iterator[tuple[int | None, dict | ValueError]]:
    """Lines are decoded one at a time so that a bad line spoils only itself. Without an
    ``id`` an article is ``<file stem>:<line>``."""
    stem = Path(name).stem
    for number, raw in _lines(handle, limit):
        if isinstance(raw, int):
            yield number, ValueError(f"the line is {_over(f'{raw:,}', limit)}")
            continue
        if not raw.strip():
            continue
        try:
            text, flags = decode_bytes(raw)
            try:
                row = json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f"not valid JSON ({err.msg})") from None
            yield number, _from_row(row, f"{stem}:{number}", name, number, flags, limit)
        except ValueError as err:
            yield number, err


def _from_row(row: object, default_id: str, name: str, number: int, flags: list[str],
              limit: int | None) -> dict:
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    article_id = default_id if row.get("id") is None else row["id"]
    return _article(row.get("text"), article_id, row, name, number, flags, limit)


def _csv_records(name: str, handle: BinaryIO, limit: int | None
                 ) -> Iterator[tuple[int | None, dict | ValueError]]:
    """A header row naming the columns (``text``; optional ``id``, ``title``, ``date``,
    ``source``); a record is numbered by the line it starts on. Bytes that are not UTF-8
    are read as lone surrogates and become U+FFFD with the ``invalid_utf8`` flag."""
    stem = Path(name).stem
    # The article size limit is checked per record; the csv module's own, far below it
    # by default, would end the file at the first long article.
    csv.field_size_limit(sys.maxsize)
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape",
                            newline="")
    reader = csv.DictReader(text)
    try:
        columns = reader.fieldnames
        if not columns:
            yield None, ValueError("empty file: expected a header row naming the columns")
            return
        if "text" not in columns:
            yield None, ValueError(f"no 'text' column in the header row (columns: "
                                   f"{', '.join(map(repr, columns[:10]))})")
            return
        start = reader.line_num + 1
        for row in reader:
            # An empty cell is a value not given (except for the text, which is empty).
            row = {k: None if v == "" and k != "text" else v for k, v in row.items()}
            try:
                yield start, _from_row(row, f"{stem}:{start}", name, start, [], limit)
            except ValueError as err:
                yield start, err
            start = reader.line_num + 1
    except csv.Error as err:
        yield reader.line_num, ValueError(f"not valid CSV ({err}); the rest of the file is "
                                          "not read")
    finally:
        text.detach()


def _parquet_records(name: str, handle: BinaryIO, limit: int | None
                     ) -> Iterator[tuple[int | None, dict | ValueError]]:
    """The same columns as JSON Lines; rows count from 1 like lines."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("Parquet input needs pyarrow: pip install pyarrow") from None
    stem, number = Path(name).stem, 0
    columns = ["text", "id", *OPTIONAL_FIELDS]
    try:
        parquet = pq.ParquetFile(handle)
        present = [c for c in columns if c in parquet.schema_arrow.names]
        batches = parquet.iter_batches(batch_size=1024, columns=present)
        for batch in batches:
            for row in batch.to_pylist():
                number += 1
                try:
                    yield number, _from_row(row, f"{stem}:{number}", name, number, [], limit)
                except ValueError as err:
                    yield number, err
    except Exception as err:  # pyarrow raises several types for a file it cannot read
        yield (number + 1 if number else None), ValueError(
            f"not a readable Parquet file ({err})" + ("; the rest of the file is not read"
                                                     if number else ""))


_RECORDS = {".jsonl": _jsonl_records, ".csv": _csv_records, ".parquet": _parquet_records}


@dataclass(frozen=True)
class Reading:
    """How inputs are read: the article size limit (``None``: none), and the records
    (:func:`record_key`) a resumed run has already written and skips."""

    max_article_bytes: int | None = MAX_ARTICLE_BYTES
    done: frozenset[tuple[str, int | None]] = field(default_factory=frozenset)

    def _records(self, name: str, handle: BinaryIO) -> Iterator[dict | ArticleError]:
        suffix = Path(name).suffix.lower()
        if suffix in WHOLE_FILE:
            try:
                yield _whole_file(name, handle, self.max_article_bytes)
            except (ValueError, OSError) as err:
                yield ArticleError(name, str(err))
        elif suffix in _RECORDS:
            try:
                for number, item in _RECORDS[suffix](name, handle, self.max_article_bytes):
                    yield ArticleError(name, str(item), number) \
                        if isinstance(item, ValueError) else item
            except OSError as err:
                yield ArticleError(name, f"cannot be read ({err}); the rest of the file is "
                                         "not read")
        else:
            yield ArticleError(name, f"unsupported file type {suffix or '(no suffix)'!r}: "
                                     f"stancewatch reads {', '.join(SUFFIXES)}")

    def file(self, path: str | Path, handle: BinaryIO) -> Iterator[dict | ArticleError]:
        """The articles and errors of one input file, read from ``handle``; ``path``
        names it in ids and errors."""
        for item in self._records(str(path), handle):
            if record_key(item) not in self.done:
                yield item

    def path(self, path: Path) -> Iterator[dict | ArticleError]:
        try:
            handle = path.open("rb")
        except OSError as err:
            if (path.name, None) not in self.done:
                yield ArticleError(str(path), f"cannot be opened ({err.strerror})")
            return
        with handle:
            yield from self.file(path, handle)

    def articles(self, path: str | Path) -> Iterator[dict | ArticleError]:
        """Every record of an input (see :func:`input_files`). Raises
        :class:`DataError` at once when ``path`` itself is unusable."""
        files = input_files(path)
        return (item for file in files for item in self.path(file))


def _folder_files(folder: Path) -> list[Path]:
    """Every file but hidden ones (``.DS_Store``), sorted by name; subfolders are not read."""
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def input_files(path: str | Path) -> list[Path]:
    """The files an input path stands for: itself, or every file of a folder (sorted by
    name; one of a type stancewatch does not read is an error of its own). Raises
    :class:`DataError` when ``path`` itself is unusable."""
    path = Path(path)
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            raise DataError(f"{path}: no files in this folder")
        return files
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix.lower() not in SUFFIXES:
        raise DataError(f"{path}: expected a folder or a file of one of these types: "
                        f"{', '.join(SUFFIXES)}")
    return [path]


def read_articles(path: str | Path, max_article_bytes: int | None = MAX_ARTICLE_BYTES
                  ) -> Iterator[dict | ArticleError]:
    """Articles and errors from an input path (see :func:`input_files`). Raises
    :class:`DataError` at once when ``path`` itself is unusable."""
    return Reading(max_article_bytes).articles(path)


def _count(path: Path) -> int:
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            with path.open("rb") as handle:
                return sum(1 for raw in handle if raw.strip())
        if suffix == ".csv":
            with path.open(encoding="utf-8", errors="replace", newline="") as handle:
                return max(0, sum(1 for _ in csv.reader(handle)) - 1)
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # a progress bar's total is a guess; the reading reports the problem
        return 1
    return 1


def count_inputs(path: str | Path) -> int | None:
    """About how many records ``path`` holds, for a progress bar."""
    try:
        files = input_files(path)
    except DataError:
        return None
    return sum(map(_count, files))
