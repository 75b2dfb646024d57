"""Articles to score: a ``.txt`` file, a folder of them, a JSON Lines file or a Parquet
file.

Readers yield one article dict (``id``, ``text``; from JSON Lines and Parquet also
``title``, ``date``, ``source`` when given) or one :class:`ArticleError` per input, so a
bad article is reported and the others still go through. Each file is read on its own
(:func:`read_file`), so that a distributed engine can read files where it scores them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from .data import DataError

OPTIONAL_FIELDS = ("title", "date", "source")


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


def _decode(raw: bytes) -> str:
    """UTF-8 without a byte-order mark (it would become part of the first sentence)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset "
                         f"{err.start})") from None


def _text_article(name: str, raw: bytes) -> dict | ArticleError:
    """One article from a text file's bytes; its id is the file's stem."""
    try:
        text = _decode(raw)
    except ValueError as err:
        return ArticleError(name, str(err))
    if not text.strip():
        return ArticleError(name, "empty text")
    return {"id": Path(name).stem, "text": text}


def _article_from_row(row: object, default_id: str) -> dict:
    if not isinstance(row, dict):
        raise ValueError(f"expected a JSON object, got {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str):
        raise ValueError("'text' is missing" if text is None else "'text' must be a string")
    if not text.strip():
        raise ValueError("empty text")
    article_id = default_id if row.get("id") is None else row["id"]
    if not isinstance(article_id, str | int) or isinstance(article_id, bool) or article_id == "":
        raise ValueError(f"'id' must be a non-empty string or an integer, got {article_id!r}")
    extra = {k: str(row[k]) for k in OPTIONAL_FIELDS if row.get(k) is not None}
    return {"id": str(article_id), "text": text, **extra}


def _article_from_line(raw: bytes, default_id: str) -> dict:
    try:
        row = json.loads(_decode(raw))
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON ({err.msg})") from None
    return _article_from_row(row, default_id)


def _unique(name: str, numbered: Iterator[tuple[int | None, dict | ValueError]]
            ) -> Iterator[dict | ArticleError]:
    """Articles of one file with their line (or row) numbers; a repeated id is an
    error, because output rows are keyed by it."""
    seen: set[str] = set()
    for number, article in numbered:
        if not isinstance(article, ValueError) and article["id"] in seen:
            article = ValueError(f"id {article['id']!r} repeats an earlier line")
        if isinstance(article, ValueError):
            yield ArticleError(name, str(article), number)
            continue
        seen.add(article["id"])
        yield article


def _jsonl_articles(name: str, handle: BinaryIO) -> Iterator[tuple[int, dict | ValueError]]:
    """Lines are decoded one at a time so that a bad line spoils only itself. Without an
    ``id`` an article is ``<file stem>:<line>``."""
    stem = Path(name).stem
    for number, raw in enumerate(handle, 1):
        if raw.strip():
            try:
                yield number, _article_from_line(raw, f"{stem}:{number}")
            except ValueError as err:
                yield number, err


def _parquet_articles(name: str, handle: BinaryIO
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
    except Exception as err:  # pyarrow raises several types for a file it cannot read
        yield None, ValueError(f"not a readable Parquet file ({err})")
        return
    present = [c for c in columns if c in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=1024, columns=present):
        for row in batch.to_pylist():
            number += 1
            try:
                yield number, _article_from_row(row, f"{stem}:{number}")
            except ValueError as err:
                yield number, err


def read_file(path: str | Path, handle: BinaryIO) -> Iterator[dict | ArticleError]:
    """The articles of one input file (``.txt``, ``.jsonl`` or ``.parquet``), read from
    ``handle``; ``path`` names it in ids and errors."""
    name = str(path)
    suffix = Path(name).suffix
    if suffix == ".txt":
        try:
            yield _text_article(name, handle.read())
        except OSError as err:
            yield ArticleError(name, str(err))
    elif suffix == ".jsonl":
        yield from _unique(name, _jsonl_articles(name, handle))
    else:
        yield from _unique(name, _parquet_articles(name, handle))


def _open_and_read(path: Path) -> Iterator[dict | ArticleError]:
    try:
        handle = path.open("rb")
    except OSError as err:
        yield ArticleError(str(path), str(err))
        return
    with handle:
        yield from read_file(path, handle)


def _folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.txt") if p.is_file())


def input_files(path: str | Path) -> list[Path]:
    """The files an input path stands for: itself, or a folder's ``.txt`` files sorted by
    name. Raises :class:`DataError` when ``path`` itself is unusable."""
    path = Path(path)
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            raise DataError(f"{path}: no .txt files in this folder")
        return files
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix not in (".txt", ".jsonl", ".parquet"):
        raise DataError(f"{path}: expected a .txt file, a folder of .txt files, a .jsonl "
                        "or a .parquet file")
    return [path]


def read_articles(path: str | Path) -> Iterator[dict | ArticleError]:
    """Articles from a ``.txt`` file, a folder of ``.txt`` files (sorted by name), a
    ``.jsonl`` or a ``.parquet`` file. Raises :class:`DataError` at once when ``path``
    itself is unusable."""
    files = input_files(path)
    return (item for file in files for item in _open_and_read(file))


def count_inputs(path: str | Path) -> int | None:
    """How many articles ``path`` holds (for a progress bar), or None if unknown."""
    path = Path(path)
    if path.is_dir():
        return len(_folder_files(path))
    if path.suffix == ".jsonl" and path.is_file():
        with path.open("rb") as handle:
            return sum(1 for raw in handle if raw.strip())
    if path.suffix == ".parquet" and path.is_file():
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return 1 if path.is_file() else None
