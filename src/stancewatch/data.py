"""Labelled examples: reading JSON Lines with line-level errors, sentence context, and
the data sets a run trains and evaluates on."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from .labels import LABELS
from .segment import model_text
from .sources import news_by_id, ungdc_by_id, unscon_sentences

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


AUTHORED_SHARES = {"test": 1, "validation": 1, "train": 8}
# Real news: whole articles held out for a dev set that picks models and a test set that
# nothing picks by.
NEWS_SHARES = {"test": 3, "dev": 3, "train": 14}


def split_for_article(article_id: str, shares: dict[str, int] = AUTHORED_SHARES) -> str:
    """The split of an article from a hash of its id (``shares``: split -> buckets out of
    their sum), so that it never changes when other articles are added and no article
    straddles splits."""
    bucket = int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % sum(shares.values())
    return next(split for split, edge in zip(shares, accumulate(shares.values()), strict=True)
                if bucket < edge)


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


# Where each real source's text lives, and the group its held-out sets are named after.
REAL_SOURCES = {"ungdc": "speech", "unscon": "speech", "news": "news"}


# How each real source's text is found (a folder or a file) and read for a set of ids.
_READERS = {
    "ungdc": (Path.is_dir, ungdc_by_id),
    "unscon": (Path.is_file, lambda where, ids: unscon_sentences(where)),
    "news": (Path.is_file, news_by_id),
}


def real_rows(ids: Iterable[str], text: dict[str, str | Path | None]) -> dict[str, dict]:
    """Rows (``id``, ``article_id``, ``position``, ``text``, ``context``, ``source``) for the
    real sentences named by ``ids``, text rebuilt from ../shared.

    ``text`` maps a source prefix (``ungdc``, ``unscon``, ``news``) to where its text is.
    Sources that are absent are skipped with a warning; ids missing from a present source
    are an error, because the data would then silently shrink.
    """
    ids = set(ids)
    unknown = sorted({i.split(":", 1)[0] for i in ids} - set(REAL_SOURCES))
    if unknown:
        raise DataError(f"unknown real source prefix {unknown[0]!r} in the ids")
    found: dict[str, dict] = {}
    for prefix in REAL_SOURCES:
        wanted = {i for i in ids if i.startswith(f"{prefix}:")}
        if not wanted:
            continue
        where = text.get(prefix)
        present, read = _READERS[prefix]
        if where is None or not present(Path(where)):
            log.warning("%s text not found at %s: its %d sentences are skipped",
                        prefix, where, len(wanted))
            continue
        found.update((row["id"], {**row, "source": prefix})
                     for row in read(where, wanted) if row["id"] in wanted)
        missing = sorted(wanted - set(found))
        if missing:
            raise DataError(f"{len(missing)} {prefix} ids not found in the text at "
                            f"{where}, e.g. {missing[0]}")
    return found


def load_real(labels_paths: Iterable[str | Path], text: dict[str, str | Path | None]
              ) -> list[dict]:
    """Hand labels (by id, from one or more files) joined with their text (see
    :func:`real_rows`), in the order of the label files."""
    labels: dict[str, dict] = {}
    for path in labels_paths:
        for sentence_id, row in read_jsonl_labels(path).items():
            if sentence_id in labels:
                raise DataError(f"{path}: id {sentence_id!r} is also labelled in another file")
            labels[sentence_id] = row
    found = real_rows(labels, text)
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


def read_teacher_labels(path: str | Path) -> dict[str, list[float]]:
    """A teacher's probabilities by id (``{"id", "p": [hostile, conditional, neutral]}``
    per line, see :mod:`stancewatch.distill`), renormalised after rounding; a
    :class:`DataError` names the line of a bad or repeated row."""
    labels: dict[str, list[float]] = {}
    for number, row in iter_jsonl(path):
        where = f"{path}:{number}"
        probabilities = row.get("p")
        if not isinstance(row.get("id"), str):
            raise DataError(f"{where}: needs a string 'id'")
        if row["id"] in labels:
            raise DataError(f"{where}: id {row['id']!r} appears twice")
        if (not isinstance(probabilities, list) or len(probabilities) != len(LABELS)
                or not all(isinstance(p, int | float) and p >= 0 for p in probabilities)
                or abs(sum(probabilities) - 1) > 1e-3):
            raise DataError(f"{where}: 'p' must be {len(LABELS)} probabilities "
                            f"({', '.join(LABELS)}) that sum to 1")
        total = sum(probabilities)
        labels[row["id"]] = [p / total for p in probabilities]
    return labels


@dataclass
class StanceData:
    """The data a run uses, built from the ``data/`` config group.

    ``corpus`` is the authored JSON Lines corpus with a ``split`` per article (``train``,
    ``validation``, ``test``). ``real_labels`` are label files for real text read from
    ../shared (``ungdc_dir``, ``unscon_path``, ``news_path``); their held-out parts become
    evaluation sets named ``<group>_<split>`` (``speech_dev``, ``news_dev``, ``news_test``).
    ``train_on`` lists the sources whose ``train`` parts make the training set
    (``authored``, ``ungdc``, ``unscon``, ``news``).

    ``select_on`` names the sets that pick the checkpoint and fit the temperature (those
    present, pooled; the authored ``validation`` split when none is). ``source_weights``
    scales each training sentence's loss by its source (``authored``, ``ungdc``,
    ``unscon``, ``news``; 1 when not given).

    ``teacher_labels`` (see :mod:`stancewatch.distill`) adds unlabelled real sentences
    with a teacher's probabilities (``soft``, no ``label``, source ``teacher``) when
    ``train_on`` names ``teacher``; a gold label wins over a teacher's, and sentences of
    held-out articles are dropped.
    """

    corpus: str
    context: str = "none"
    real_labels: list[str] = field(default_factory=list)
    ungdc_dir: str | None = None
    unscon_path: str | None = None
    news_path: str | None = None
    train_on: list[str] = field(default_factory=lambda: ["authored"])
    select_on: list[str] = field(default_factory=lambda: ["news_dev", "speech_dev"])
    source_weights: dict[str, float] = field(default_factory=dict)
    teacher_labels: str | None = None
    splits: dict[str, list[dict]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.context not in CONTEXT_MODES:
            raise ValueError(f"data.context must be one of {CONTEXT_MODES}, got {self.context!r}")
        for key, known in (("train_on", {"authored", *REAL_SOURCES, "teacher"}),
                           ("source_weights", {"authored", *REAL_SOURCES})):
            unknown = set(getattr(self, key) or []) - known
            if unknown:
                raise ValueError(f"data.{key}: unknown source {sorted(unknown)[0]!r}")
        corpus = [{**row, "source": "authored"}
                  for row in add_previous_context(read_jsonl(self.corpus))]
        self.splits = {name: [r for r in corpus if r.get("split") == name]
                       for name in ("train", "validation", "test")}
        for name, rows in self.splits.items():
            if not rows:
                raise DataError(f"{self.corpus}: no sentences with split={name!r}")
        for path in self.real_labels or []:
            if not Path(path).is_file():
                raise DataError(f"{path}: real label file not found (data.real_labels)")
        text = {"ungdc": self.ungdc_dir, "unscon": self.unscon_path, "news": self.news_path}
        real = load_real(self.real_labels or [], text)
        if self.real_labels and not real:
            log.warning("no real labelled text found (is ../shared absent? set "
                        "paths.shared_dir=): training and evaluating on the authored corpus "
                        "alone")
        for row in real:
            if row.get("split") != "train":
                name = f"{REAL_SOURCES[row['source']]}_{row['split']}"
                self.splits.setdefault(name, []).append(row)
        weights = self.source_weights or {}
        self.splits["train"] = [
            {**row, "weight": float(weights.get(row["source"], 1.0))}
            for row in self.splits["train"] + [r for r in real if r.get("split") == "train"]
            if row["source"] in self.train_on]
        if "teacher" in self.train_on:
            self.splits["train"] += self._teacher_rows(text, real)
        if not self.splits["train"]:
            raise DataError(f"no training sentences from data.train_on={list(self.train_on)}")

    def _teacher_rows(self, text: dict, real: list[dict]) -> list[dict]:
        if not self.teacher_labels or not Path(self.teacher_labels).is_file():
            raise DataError(f"{self.teacher_labels}: teacher label file not found "
                            "(data.teacher_labels; scripts/teacher_label.py writes it)")
        soft = read_teacher_labels(self.teacher_labels)
        gold = {row["id"] for row in real}
        held_out = {row["article_id"] for row in real if row.get("split") != "train"}
        rows = [row for i, row in real_rows(set(soft) - gold, text).items()
                if row["article_id"] not in held_out]
        dropped = len(soft) - len(rows)
        if dropped:
            log.info("teacher labels: %d of %d not used (gold-labelled, held out, or text "
                     "absent)", dropped, len(soft))
        return [{**row, "source": "teacher", "soft": soft[row["id"]], "weight": 1.0}
                for row in sorted(rows, key=lambda r: r["id"])]

    @property
    def eval_sets(self) -> list[str]:
        return [name for name in self.splits if name != "train"]

    @property
    def monitor_sets(self) -> list[str]:
        """The evaluation sets whose curves training logs: all but the test sets, which
        nothing may look at before the end."""
        return [name for name in self.eval_sets if not name.endswith("test")]

    @property
    def selection_sets(self) -> list[str]:
        """The sets that pick the checkpoint and fit the temperature."""
        return [name for name in self.select_on if name in self.splits] or ["validation"]

    @property
    def selection(self) -> list[dict]:
        return [row for name in self.selection_sets for row in self.splits[name]]

    @property
    def train_sources(self) -> dict[str, int]:
        """How many training sentences came from each source."""
        counts: dict[str, int] = {}
        for row in self.splits["train"]:
            counts[row["source"]] = counts.get(row["source"], 0) + 1
        return counts

    @property
    def train_hash(self) -> str:
        return data_hash(self.splits["train"])
