"""Labelled examples: reading JSON Lines with line-level errors, sentence context, and
the data sets a run trains and evaluates on."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .labels import LABELS
from .segment import model_text
from .sources import ungdc_by_id, unscon_sentences

log = logging.getLogger(__name__)

CONTEXT_MODES = ("none", "previous")


class DataError(ValueError):
    """Bad input data; the message names the file and line."""


def read_jsonl(path: str | Path, *, labelled: bool = True) -> list[dict]:
    """Read examples (``text``, ``label``; optional ``id``, ``article_id``, ``context``).

    Extra keys are kept. Raises :class:`DataError` naming ``path:line`` on the first bad line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{where}: expected a JSON object, got {type(row).__name__}")
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"{where}: 'text' must be a non-empty string")
            if labelled and row.get("label") not in LABELS:
                raise DataError(
                    f"{where}: label {row.get('label')!r} is not one of {', '.join(LABELS)}"
                )
            row.setdefault("id", f"{path.stem}:{number}")
            rows.append(row)
    if not rows:
        raise DataError(f"{path}: no examples")
    return rows


def add_previous_context(rows: list[dict]) -> list[dict]:
    """Set ``context`` to the previous sentence of the same article where it is missing.

    Rows without ``article_id`` get no context: sentences never borrow across articles.
    """
    by_article: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        if row.get("article_id") is not None and "position" in row:
            by_article[row["article_id"]].append(row)
    previous: dict[int, str | None] = {}
    for article in by_article.values():
        article.sort(key=lambda r: r["position"])
        for before, row in zip([None, *article], article, strict=False):
            previous[id(row)] = before["text"] if before is not None else None
    return [
        {**row, "context": row["context"] if "context" in row else previous.get(id(row))}
        for row in rows
    ]


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
    labels_path: str | Path, ungdc_dir: str | Path, unscon_path: str | Path
) -> list[dict]:
    """Join hand labels (by id) with text rebuilt from ../shared.

    Sources that are absent are skipped with a warning; ids missing from a present
    source are an error, because the labels would then silently shrink.
    """
    labels = read_jsonl_labels(labels_path)
    found: dict[str, dict] = {}
    for name, where, present, rows in (
        ("UN General Debate", ungdc_dir, Path(ungdc_dir).is_dir(),
         lambda: ungdc_by_id(ungdc_dir, set(labels))),
        ("UNSCon", unscon_path, Path(unscon_path).is_file(),
         lambda: unscon_sentences(unscon_path)),
    ):
        if not present:
            log.warning("%s text not found at %s: its labelled sentences are skipped", name, where)
            continue
        for row in rows():
            if row["id"] in labels:
                found[row["id"]] = row
    prefixes = {row["id"].split(":", 1)[0] for row in found.values()}
    missing = [i for i in labels if i.split(":", 1)[0] in prefixes and i not in found]
    if missing:
        raise DataError(
            f"{labels_path}: {len(missing)} ids not found in the source, e.g. {missing[0]}")
    return [{**found[i], **labels[i]} for i in labels if i in found]


def read_jsonl_labels(path: str | Path) -> dict[str, dict]:
    """Hand labels by id: each line has ``id`` and ``label`` (no text)."""
    path = Path(path)
    labels: dict[str, dict] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in LABELS or "id" not in row:
                raise DataError(
                    f"{path}:{number}: needs an 'id' and a label in {', '.join(LABELS)}")
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
            real = load_real(self.real_labels, self.ungdc_dir or "", self.unscon_path or "")
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
