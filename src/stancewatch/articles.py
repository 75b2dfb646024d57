"""Articles to score: a ``.txt`` file, a folder of them, or a JSON Lines file.

Readers yield one article dict (``id``, ``text``; from JSON Lines also ``title``,
``date``, ``source`` when given) or one :class:`ArticleError` per input, so a bad
article is reported and the others still go through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

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


def read_text_file(path: Path) -> dict | ArticleError:
    """One article from a text file; its id is the file's stem."""
    try:
        text = _decode(path.read_bytes())
    except (OSError, ValueError) as err:
        return ArticleError(str(path), str(err))
    if not text.strip():
        return ArticleError(str(path), "empty text")
    return {"id": path.stem, "text": text}


def _article_from_line(raw: bytes, default_id: str) -> dict:
    try:
        row = json.loads(_decode(raw))
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON ({err.msg})") from None
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


def read_jsonl_articles(path: Path) -> Iterator[dict | ArticleError]:
    """One article per line (``text``; optional ``id``, ``title``, ``date``, ``source``).

    Lines are decoded one at a time so that a bad line spoils only itself. Without an
    ``id`` an article is ``<file stem>:<line>``; a repeated id is an error, because
    output rows are keyed by it.
    """
    seen: set[str] = set()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            try:
                article = _article_from_line(raw, f"{path.stem}:{number}")
                if article["id"] in seen:
                    raise ValueError(f"id {article['id']!r} repeats an earlier line")
            except ValueError as err:
                yield ArticleError(str(path), str(err), number)
                continue
            seen.add(article["id"])
            yield article


def _folder_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.txt") if p.is_file())


def read_articles(path: str | Path) -> Iterator[dict | ArticleError]:
    """Articles from a ``.txt`` file, a folder of ``.txt`` files (sorted by name) or a
    ``.jsonl`` file. Raises :class:`DataError` at once when ``path`` itself is unusable."""
    path = Path(path)
    if path.is_dir():
        files = _folder_files(path)
        if not files:
            raise DataError(f"{path}: no .txt files in this folder")
        return map(read_text_file, files)
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix == ".jsonl":
        return read_jsonl_articles(path)
    if path.suffix == ".txt":
        return iter([read_text_file(path)])
    raise DataError(f"{path}: expected a .txt file, a folder of .txt files or a .jsonl file")


def count_inputs(path: str | Path) -> int | None:
    """How many articles ``path`` holds (for a progress bar), or None if unknown."""
    path = Path(path)
    if path.is_dir():
        return len(_folder_files(path))
    if path.suffix == ".jsonl" and path.is_file():
        with path.open("rb") as handle:
            return sum(1 for raw in handle if raw.strip())
    return 1 if path.is_file() else None
