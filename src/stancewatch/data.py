"""Labelled examples: reading JSON Lines with line-level errors, sentence context, and
the data sets a run trains and evaluates on."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .labels import LABELS
from .segment import model_text
from .sources import ungdc_by_id, unscon_sentences

log = logging.getLogger(__name__)

CONTEXT_MODES = ("none", "previous")


class DataError(ValueError):
    """Bad input data; the message names the file and line."""


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line.

    Raises :class:`DataError` naming the line for bad UTF-8, bad JSON or a non-object.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(f"{where}: not valid UTF-8 ({err.reason})") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
            yield number, row


def _check_label(where: str, row: dict) -> None:
    if row.get("label") not in LABELS:
        raise DataError(f"{where}: label {row.get('label')!r} is not one of {', '.join(LABELS)}")


def read_jsonl(path: str | Path) -> list[dict]:
    """Read labelled examples (``text``, ``label``; optional ``id``, ``article_id``,
    ``position``, ``context``). Extra keys are kept.

    Raises :class:`DataError` naming ``path:line`` on the first bad line.
    """
    rows, seen = [], set()
    for number, row in iter_jsonl(path):
        where = f"{path}:{number}"
        text = row.get("text")
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: 'text' must be a non-empty string")
        _check_label(where, row)
        row.setdefault("id", f"{Path(path).stem}:{number}")
        if row["id"] in seen:
            raise DataError(f"{where}: id {row['id']!r} appears twice")
        seen.add(row["id"])
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: no examples")
    return rows


def add_previous_context(rows: list[dict]) -> list[dict]:
    """Set ``context`` to the previous sentence of the same article where it is missing.

    Only the sentence at ``position - 1`` counts: rows without ``article_id`` or
    ``position``, or whose predecessor is not in ``rows``, get none, so sentences never
    borrow across articles or across gaps.
    """
    text_at = {(r["article_id"], r["position"]): r["text"]
               for r in rows if r.get("article_id") is not None and "position" in r}

    def previous(row: dict) -> str | None:
        if row.get("article_id") is None or "position" not in row:
            return None
        return text_at.get((row["article_id"], row["position"] - 1))

    return [{**row, "context": row["context"] if "context" in row else previous(row)}
            for row in rows]


def split_for_article(article_id: str) -> str:
    """The corpus split of an article (80/10/10 from a hash of its id), so that it never
    changes when other articles are added and no article straddles splits."""
    bucket = int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % 10
    return {0: "test", 1: "validation"}.get(bucket, "train")


def model_inputs(rows: list[dict], context: bool) -> tuple[list[str], list[str | None] | None]:
    """The strings a model sees for ``rows``: cleaned sentences, and contexts if used."""
    texts = [model_text(r["text"]) for r in rows]
    if not context:
        return texts, None
    return texts, [model_text(r["context"]) if r.get("context") else None for r in rows]


def data_hash(rows: Iterable[dict]) -> str:
    """A short digest of texts and labels, to tell which data a model saw."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{row['text']}\t{row.get('label')}\n".encode())
    return digest.hexdigest()[:16]


def load_real(
    labels_path: str | Path, ungdc_dir: str | Path | None, unscon_path: str | Path | None
) -> list[dict]:
    """Join hand labels (by id) with text rebuilt from ../shared.

    Sources that are absent are skipped with a warning; ids missing from a present
    source are an error, because the labels would then silently shrink.
    """
    labels = read_jsonl_labels(labels_path)
    found: dict[str, dict] = {}
    present: set[str] = set()
    for prefix, name, where, exists, rows in (
        ("ungdc", "UN General Debate", ungdc_dir,
         ungdc_dir is not None and Path(ungdc_dir).is_dir(),
         lambda: ungdc_by_id(ungdc_dir, set(labels))),
        ("unscon", "UNSCon", unscon_path,
         unscon_path is not None and Path(unscon_path).is_file(),
         lambda: unscon_sentences(unscon_path)),
    ):
        if not exists:
            log.warning("%s text not found at %s: its labelled sentences are skipped", name, where)
            continue
        present.add(prefix)
        for row in rows():
            if row["id"] in labels:
                found[row["id"]] = row
    missing = [i for i in labels if i.split(":", 1)[0] in present and i not in found]
    if missing:
        raise DataError(
            f"{labels_path}: {len(missing)} ids not found in the source, e.g. {missing[0]}")
    return [{**found[i], **labels[i]} for i in labels if i in found]


def read_jsonl_labels(path: str | Path) -> dict[str, dict]:
    """Hand labels by id: each line has ``id`` and ``label`` (no text)."""
    labels: dict[str, dict] = {}
    for number, row in iter_jsonl(path):
        where = f"{path}:{number}"
        _check_label(where, row)
        if not isinstance(row.get("id"), str):
            raise DataError(f"{where}: needs a string 'id'")
        if row["id"] in labels:
            raise DataError(f"{where}: id {row['id']!r} appears twice")
        labels[row["id"]] = row
    return labels


@dataclass
class StanceData:
    """The data a run uses, built from the ``data/`` config group.

    ``corpus`` is the authored JSON Lines corpus with a ``split`` per article. When
    ``real_labels`` is set and ../shared is present, its ``dev`` part is an extra
    evaluation set (``real_dev``) and, with ``train_on_real``, its ``train`` part joins
    the training set.
    """

    corpus: str
    context: str = "none"
    real_labels: str | None = None
    ungdc_dir: str | None = None
    unscon_path: str | None = None
    train_on_real: bool = False
    splits: dict[str, list[dict]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.context not in CONTEXT_MODES:
            raise ValueError(f"data.context must be one of {CONTEXT_MODES}, got {self.context!r}")
        corpus = add_previous_context(read_jsonl(self.corpus))
        self.splits = {name: [r for r in corpus if r.get("split") == name]
                       for name in ("train", "validation", "test")}
        for name, rows in self.splits.items():
            if not rows:
                raise DataError(f"{self.corpus}: no sentences with split={name!r}")
        if self.real_labels and not Path(self.real_labels).is_file():
            raise DataError(f"{self.real_labels}: real label file not found (data.real_labels)")
        if self.real_labels:
            real = load_real(self.real_labels, self.ungdc_dir, self.unscon_path)
            if not real:
                log.warning("no real labelled text available (../shared absent?): "
                            "training and evaluating on the authored corpus only")
            dev = [r for r in real if r.get("split") == "dev"]
            if dev:
                self.splits["real_dev"] = dev
            if self.train_on_real:
                extra = [r for r in real if r.get("split") == "train"]
                self.splits["train"] = self.splits["train"] + extra

    @property
    def eval_sets(self) -> list[str]:
        return [name for name in self.splits if name != "train"]

    @property
    def train_hash(self) -> str:
        return data_hash(self.splits["train"])
