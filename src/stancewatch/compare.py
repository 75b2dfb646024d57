"""Comparing training runs: find their records, line them up in one table (runs that
differ only in seed pooled into mean ± std), and look closely at two runs: a paired
bootstrap interval on their difference and the sentences where they disagree."""

from __future__ import annotations

import csv
import fnmatch
import json
import logging
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .labels import LABEL2ID, LABELS
from .metrics import reliability_bins
from .records import RECORD_FILE, dataset_suffix, read_record, write_jsonl

log = logging.getLogger(__name__)

# Config keys that differ between runs whatever is being compared, only say where files
# go, or change how a run looks rather than what it learns: they neither split seed
# groups nor become table columns.
VOLATILE_KEYS = frozenset({"seed", "run_id", "export_dir", "resume", "device", "verbose",
                           "data_card", "trainer.progress_bar"})
VOLATILE_PREFIXES = ("paths.", "logger.env.")

# Real news is what users score: its dev set picks models, its test set reports them; the
# authored test split is a regression check.
DEFAULT_METRICS: tuple[str, ...] = (
    "news_dev.macro_f1", "news_test.macro_f1", *(f"news_test.f1.{label}" for label in LABELS),
    "news_test.ece", "speech_dev.macro_f1", "test.macro_f1", "train.seconds", "model_mb",
)
UNTAGGED = "untagged"
_CHUNK = 250  # bootstrap resamples scored at once; bounds memory at _CHUNK x sentences


@dataclass(frozen=True)
class Run:
    """A run directory and its ``run.json``."""

    path: Path
    record: dict

    @property
    def name(self) -> str:
        return self.record.get("name") or self.path.name

    @property
    def seed(self) -> int | None:
        return self.record.get("config", {}).get("seed")

    @property
    def settings(self) -> dict:
        """What the run was, less the volatile keys: its config and the hash of its
        training data (the same config on other data is another experiment)."""
        config = self.record.get("config", {})
        # Paths inside the checkout compare equal across checkouts.
        root = str(config.get("paths.root_dir", "")) or None
        settings = {key: value.replace(root, "<root>") if root and isinstance(value, str)
                    else value
                    for key, value in config.items()
                    if key not in VOLATILE_KEYS and not key.startswith(VOLATILE_PREFIXES)}
        settings["data_hash"] = self.record.get("data_hash")
        return settings


def load_run(run_dir: str | Path) -> Run:
    return Run(Path(run_dir), read_record(run_dir))


def _as_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def discover_runs(root: str | Path = "outputs/runs", *, tag: str | None = None,
                  name: str | None = None, since: str | date | None = None,
                  until: str | date | None = None) -> list[Run]:
    """Training runs with a ``run.json`` anywhere under ``root`` (multirun jobs included),
    oldest first. ``name`` is a glob; ``since`` and ``until`` are inclusive dates
    compared with the run's start (UTC)."""
    first, last = _as_date(since), _as_date(until)
    runs = []
    for path in sorted(Path(root).rglob(RECORD_FILE)):
        try:
            run = load_run(path.parent)
        except (OSError, json.JSONDecodeError) as err:
            # a run.json being written right now, or damaged: the other runs still count
            log.warning("skipping %s: %s", path, err)
            continue
        record = run.record
        # evaluation records score a model that already has a run; their metrics are
        # merged into that run's record
        if record.get("kind", "train") != "train":
            continue
        if tag is not None and tag not in record.get("tags", []):
            continue
        if name is not None and not fnmatch.fnmatchcase(run.name, name):
            continue
        started = str(record.get("started", ""))[:10]   # ISO dates order as strings
        if (first and started < first.isoformat()) or (last and started > last.isoformat()):
            continue
        runs.append(run)
    return sorted(runs, key=lambda run: str(run.record.get("started", "")))


def metric_value(record: dict, metric: str) -> float | None:
    """A number from a run record by a dotted name, None when the run lacks it.

    ``model_mb`` is the saved model's size in MB (10^6 bytes); a name whose first part
    is a top-level record key walks the record (``train.seconds``, ``wall_seconds``);
    otherwise the first part is an evaluated dataset (``test.macro_f1``), where
    ``f1.LABEL`` is short for ``per_class.LABEL.f1``.
    """
    if metric == "model_mb":
        size = record.get("model_bytes")
        return None if size is None else size / 1e6
    head, _, rest = metric.partition(".")
    if head in record:
        node, parts = record, metric.split(".")
    else:
        node, parts = record.get("metrics", {}).get(head), rest.split(".")
        if len(parts) == 2 and parts[0] == "f1":
            parts = ["per_class", parts[1], "f1"]
    for part in parts:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def group_by_seed(runs: Iterable[Run]) -> list[list[Run]]:
    """Runs whose settings are equal (they differ only in volatile keys such as the
    seed), in order of first appearance."""
    groups: dict[str, list[Run]] = {}
    for run in runs:
        key = json.dumps(run.settings, sort_keys=True, default=str)
        groups.setdefault(key, []).append(run)
    return list(groups.values())


@dataclass
class Row:
    """One run, or runs that differ only in seed."""

    runs: list[Run]
    label: str = ""

    @property
    def settings(self) -> dict:
        return self.runs[0].settings

    @property
    def seeds(self) -> list:
        return [run.seed for run in self.runs]

    def values(self, metric: str) -> list[float]:
        values = (metric_value(run.record, metric) for run in self.runs)
        return [value for value in values if value is not None]

    def mean(self, metric: str) -> float | None:
        values = self.values(metric)
        return statistics.fmean(values) if values else None

    def std(self, metric: str) -> float | None:
        """Sample standard deviation across seeds; None for fewer than two values."""
        values = self.values(metric)
        return statistics.stdev(values) if len(values) > 1 else None


@dataclass
class Table:
    keys: list[str]      # the settings that differ between the rows
    metrics: list[str]
    rows: list[Row]


def _differing_keys(rows: Sequence[Row]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row.settings))
    return [key for key in keys
            if len({json.dumps(row.settings.get(key), default=str) for row in rows}) > 1]


def _label(row: Row, rows: Sequence[Row], keys: Sequence[str]) -> str:
    """The run name, with its distinguishing settings when another row shares it."""
    twins = [other for other in rows if other.runs[0].name == row.runs[0].name]
    if len(twins) == 1:
        return row.runs[0].name
    differing = [key for key in _differing_keys(twins) if key in keys]
    if not differing:  # same setting, seeds shown apart: the run directory tells them apart
        return f"{row.runs[0].name} ({row.runs[0].path.name})"
    return f"{row.runs[0].name} ({', '.join(f'{k}={row.settings.get(k)}' for k in differing)})"


def build_table(runs: Sequence[Run], metrics: Sequence[str] | None = None,
                sort_by: str = "test.macro_f1", descending: bool = True,
                group_seeds: bool = True) -> Table:
    """One row per run, or per seed group; columns are the settings that differ between
    the rows, then the metrics that at least one run has. Rows lacking ``sort_by`` go last."""
    rows = [Row(group) for group in group_by_seed(runs)] if group_seeds \
        else [Row([run]) for run in runs]
    # the name labels the row, so it is not repeated as a setting
    keys = [key for key in _differing_keys(rows) if key != "name"]
    wanted = list(metrics or DEFAULT_METRICS)
    shown = [metric for metric in wanted if any(row.values(metric) for row in rows)]
    for metric in wanted:
        if metric not in shown and metrics:
            log.warning("no run has the metric %s", metric)
    for row in rows:
        row.label = _label(row, rows, keys)

    def order(row: Row) -> tuple[bool, float]:
        value = row.mean(sort_by)
        if value is None:
            return (True, 0.0)
        return (False, -value if descending else value)

    return Table(keys, shown, sorted(rows, key=order))


def _number(value: float, like: float | None = None, sign: str = "") -> str:
    """Three decimals for scores, one for seconds and megabytes (by the size of ``like``,
    so that a spread or a difference prints as precisely as the values it comes from)."""
    decimals = 3 if abs(value if like is None else like) < 10 else 1
    return f"{value:{sign}.{decimals}f}"


def _cell(row: Row, metric: str) -> str:
    mean, std = row.mean(metric), row.std(metric)
    if mean is None:
        return ""
    return _number(mean) if std is None else f"{_number(mean)} ± {_number(std, mean)}"


def _setting(value) -> str:
    return "" if value is None else str(value)


def _markdown(header: Sequence[str], lines: Iterable[Sequence[str]]) -> str:
    def escape(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(map(escape, header)) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(map(escape, line)) + " |" for line in lines]
    return "\n".join(out) + "\n"


def to_markdown(table: Table) -> str:
    """The table as Markdown; a pooled row shows mean ± sample std over its n seeds."""
    return _markdown(
        ["run", "n", *table.keys, *table.metrics],
        ([row.label, str(len(row.runs)), *(_setting(row.settings.get(k)) for k in table.keys),
          *(_cell(row, m) for m in table.metrics)] for row in table.rows))


def write_csv(table: Table, path: str | Path) -> None:
    """The table with plain numbers: per metric its mean and ``_std`` (empty for one run)."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", "n", "seeds", *table.keys,
                         *(f"{m}{suffix}" for m in table.metrics for suffix in ("", "_std")),
                         "run_dirs"])
        for row in table.rows:
            numbers = [row.mean(m) if suffix == "" else row.std(m)
                       for m in table.metrics for suffix in ("", "_std")]
            writer.writerow([row.label, len(row.runs), " ".join(map(str, row.seeds)),
                             *(_setting(row.settings.get(k)) for k in table.keys),
                             *("" if v is None else v for v in numbers),
                             ";".join(str(run.path) for run in row.runs)])


def plot_per_class_f1(table: Table, dataset: str = "test") -> Figure:
    """Per-class F1 on ``dataset``, one bar per row, error bars = std across seeds.
    A bare Figure (no pyplot): it saves without a display and shows in a notebook."""
    fig = Figure(figsize=(max(6.0, 1.5 + 0.45 * len(table.rows) * len(LABELS)), 4.2))
    ax = fig.subplots()
    width = 0.8 / max(len(table.rows), 1)
    x = np.arange(len(LABELS))
    for i, row in enumerate(table.rows):
        metrics = [f"{dataset}.f1.{label}" for label in LABELS]
        means = [row.mean(m) for m in metrics]
        errors = [row.std(m) or 0.0 for m in metrics]
        ax.bar(x + (i - (len(table.rows) - 1) / 2) * width,
               [np.nan if m is None else m for m in means], width,
               yerr=errors if len(row.runs) > 1 else None, capsize=3,
               label=f"{row.label} (n={len(row.runs)})")
    ax.set_xticks(x, LABELS)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1")
    ax.set_title(f"Per-class F1 on {dataset} (error bars: std across seeds)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def write_comparison(table: Table, out_dir: str | Path, dataset: str = "test") -> None:
    """``comparison.md``, ``comparison.csv`` and ``per_class_f1.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "comparison.md").write_text(to_markdown(table), encoding="utf-8")
    write_csv(table, out_dir / "comparison.csv")
    plot_per_class_f1(table, dataset).savefig(out_dir / "per_class_f1.png", dpi=120)


# --- two runs in detail ---------------------------------------------------------------

def run_file(run_dir: str | Path, stem: str, dataset: str = "test", suffix: str = ".jsonl") -> Path:
    """A per-dataset file of a run (see :func:`records.dataset_suffix`)."""
    return Path(run_dir) / f"{stem}{dataset_suffix(dataset)}{suffix}"


def load_predictions(run_dir: str | Path, dataset: str = "test") -> list[dict]:
    """A run's per-sentence predictions on ``dataset``; a ValueError names the datasets
    the run has when it lacks this one."""
    path = run_file(run_dir, "predictions", dataset)
    if not path.is_file():
        have = sorted(read_record(run_dir).get("metrics", {})) if (
            Path(run_dir) / RECORD_FILE).is_file() else []
        raise ValueError(f"{run_dir} has no predictions on {dataset!r} (it has: "
                         f"{', '.join(have) or 'none'}); pass dataset=")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass(frozen=True)
class Interval:
    """A metric for A and B on the same sentences, and a bootstrap interval of B − A."""

    a: float
    b: float
    low: float
    high: float

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def verdict(self) -> str:
        if not self.excludes_zero:
            return "A and B are not distinguishable"
        return "B is better" if self.low > 0 else "A is better"


def _scores(counts: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Macro-F1 and accuracy of A and B from summed per-sentence indicators (see
    ``paired_bootstrap``); F1 of a class absent from gold and predictions is 0, as in
    metrics.macro_f1."""
    k = len(LABELS)
    gold = counts[..., :k]
    out = {}
    for model, start in (("a", k), ("b", 3 * k)):
        hits, predicted = counts[..., start:start + k], counts[..., start + k:start + 2 * k]
        denominator = gold + predicted
        f1 = np.divide(2 * hits, denominator, out=np.zeros_like(hits), where=denominator > 0)
        out[f"macro_f1_{model}"] = f1.mean(-1)
        out[f"accuracy_{model}"] = hits.sum(-1) / n
    return out


def paired_bootstrap(gold: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str],
                     resamples: int = 2000, seed: int = 0,
                     confidence: float = 0.95) -> dict[str, Interval]:
    """Percentile intervals of macro-F1(B) − macro-F1(A) and accuracy(B) − accuracy(A).

    Each resample draws the sentences with replacement and scores both models on the
    same draw (paired), so sentences that are hard for both do not widen the interval.
    """
    if not len(gold):
        raise ValueError("no sentences to compare")
    ids = np.arange(len(LABELS))
    gold_ids = np.array([LABEL2ID[g] for g in gold])[:, None] == ids
    columns = [gold_ids]
    for pred in (pred_a, pred_b):
        pred_ids = np.array([LABEL2ID[p] for p in pred])[:, None] == ids
        columns += [pred_ids & gold_ids, pred_ids]
    # per sentence: gold one-hot, then per model its hits and predictions one-hot; a
    # resample's counts are these rows weighted by how often the draw took each sentence
    indicators = np.concatenate(columns, axis=1).astype(float)
    n = len(indicators)
    rng = np.random.default_rng(seed)
    sampled = []
    for start in range(0, resamples, _CHUNK):
        weights = rng.multinomial(n, np.full(n, 1 / n), size=min(_CHUNK, resamples - start))
        sampled.append(weights @ indicators)
    point, draws = _scores(indicators.sum(0), n), _scores(np.concatenate(sampled), n)
    tail = (1 - confidence) / 2
    intervals = {}
    for metric in ("macro_f1", "accuracy"):
        low, high = np.quantile(draws[f"{metric}_b"] - draws[f"{metric}_a"], [tail, 1 - tail])
        intervals[metric] = Interval(float(point[f"{metric}_a"]), float(point[f"{metric}_b"]),
                                     float(low), float(high))
    return intervals


@dataclass
class PairComparison:
    a: Run
    b: Run
    dataset: str
    sizes: tuple[int, int, int]   # sentences scored by A, by B, and by both
    deltas: list[tuple[str, float | None, float | None]]   # (metric, A, B) from the records
    intervals: dict[str, Interval]
    resamples: int
    confidence: float
    disagreements: list[dict]


def compare_pair(a: Run, b: Run, dataset: str = "test", metrics: Sequence[str] | None = None,
                 resamples: int = 2000, seed: int = 0,
                 confidence: float = 0.95) -> PairComparison:
    """A against B: their recorded metrics, a paired bootstrap on the ``dataset``
    sentences both scored (joined by id), and the sentences they label differently."""
    preds_a = load_predictions(a.path, dataset)
    preds_b = {row["id"]: row for row in load_predictions(b.path, dataset)}
    shared = [(row, preds_b[row["id"]]) for row in preds_a if row["id"] in preds_b]
    if not shared:
        raise ValueError(f"{a.path} and {b.path} share no {dataset} sentences")
    for row_a, row_b in shared:
        if row_a["label"] != row_b["label"]:
            raise ValueError(f"sentence {row_a['id']} has gold {row_a['label']!r} in A and "
                             f"{row_b['label']!r} in B: not the same {dataset} set")
    intervals = paired_bootstrap([ra["label"] for ra, _ in shared],
                                 [ra["predicted"] for ra, _ in shared],
                                 [rb["predicted"] for _, rb in shared],
                                 resamples, seed, confidence)
    disagreements = [
        {"id": ra["id"], "text": ra["text"], "gold": ra["label"], "a": ra["predicted"],
         "b": rb["predicted"], **({"hard_case": ra["hard_case"]} if ra.get("hard_case") else {})}
        for ra, rb in shared if ra["predicted"] != rb["predicted"]]
    deltas = [(m, metric_value(a.record, m), metric_value(b.record, m))
              for m in (metrics or DEFAULT_METRICS)]
    return PairComparison(a, b, dataset, (len(preds_a), len(preds_b), len(shared)),
                          [d for d in deltas if d[1] is not None or d[2] is not None],
                          intervals, resamples, confidence, disagreements)


def render_pair(pair: PairComparison, show: int = 20) -> str:
    """The pairwise detail as Markdown, with the first ``show`` disagreements."""
    percent = f"{pair.confidence:.0%}"
    lines = [f"A: {pair.a.name} ({pair.a.path})", f"B: {pair.b.name} ({pair.b.path})", "",
             _markdown(["metric", "A", "B", "B − A"],
                       ([m, "" if va is None else _number(va), "" if vb is None else _number(vb),
                         "" if va is None or vb is None else _number(vb - va, max(va, vb), "+")]
                        for m, va, vb in pair.deltas)),
             f"Paired bootstrap on the {pair.sizes[2]} {pair.dataset} sentences both runs "
             f"scored (A {pair.sizes[0]}, B {pair.sizes[1]}), {pair.resamples} resamples:", ""]
    for metric, interval in pair.intervals.items():
        lines.append(f"- {metric}: A {interval.a:.3f}, B {interval.b:.3f}, "
                     f"B − A {interval.delta:+.3f}, {percent} CI "
                     f"[{interval.low:+.3f}, {interval.high:+.3f}]: {interval.verdict}")
    headline = pair.intervals["macro_f1"]
    lines += ["", f"**Macro-F1: {headline.verdict}** (the {percent} CI of B − A "
              f"{'excludes' if headline.excludes_zero else 'includes'} 0).",
              "", f"They disagree on {len(pair.disagreements)} sentences"
              + (f" (first {show} below; all in disagreements.jsonl):"
                 if len(pair.disagreements) > show else ":"), ""]
    if pair.disagreements:
        lines.append(_markdown(["id", "gold", "A", "B", "text"],
                               ([d["id"], d["gold"], d["a"], d["b"], d["text"]]
                                for d in pair.disagreements[:show])))
    return "\n".join(lines)


def write_pair(pair: PairComparison, out_dir: str | Path) -> None:
    """``pairwise.md`` and ``disagreements.jsonl`` (every disagreement) in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "pairwise.md").write_text(render_pair(pair), encoding="utf-8")
    write_jsonl(out_dir / "disagreements.jsonl", pair.disagreements)


# --- error analysis (the notebook) ----------------------------------------------------

def render_errors(predictions: dict[str, list[dict]], show: int = 10) -> str:
    """Misclassified sentences grouped by their LABELS.md hard-case tag ("untagged" when
    a sentence has none), as Markdown: a count table, then per group the first ``show``
    sentences that at least one run gets wrong. ``predictions`` maps a run's display
    name to its predictions; sentences are those of the first run, joined by id."""
    names = list(predictions)
    guessed = {name: {row["id"]: row["predicted"] for row in rows}
               for name, rows in predictions.items()}
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in predictions[names[0]]:
        groups[row.get("hard_case") or UNTAGGED].append(row)

    def wrong(row: dict, name: str) -> bool:
        return guessed[name].get(row["id"], row["label"]) != row["label"]

    errors = {case: {name: sum(wrong(row, name) for row in rows) for name in names}
              for case, rows in groups.items()}
    order = sorted(groups, key=lambda case: -sum(errors[case].values()))
    out = [_markdown(["hard case", "sentences", *(f"errors {name}" for name in names)],
                     ([case, str(len(groups[case])), *(str(errors[case][n]) for n in names)]
                      for case in order))]
    for case in order:
        missed = [row for row in groups[case] if any(wrong(row, name) for name in names)]
        if missed:
            out += [f"### {case} ({len(missed)} misclassified by at least one run)\n",
                    _markdown(["id", "gold", *names, "text"],
                              ([row["id"], row["label"],
                                *(guessed[name].get(row["id"], "") for name in names),
                                row["text"]] for row in missed[:show]))]
    return "\n".join(out)


def plot_reliability(predictions: dict[str, list[dict]], bins: int = 10) -> Figure:
    """Reliability curves (accuracy against top-label confidence, equal-width bins)
    from prediction scores, one line per named set of predictions."""
    fig = Figure(figsize=(4.8, 4.2))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect calibration")
    for name, rows in predictions.items():
        probs = np.array([[row["scores"][label] for label in LABELS] for row in rows])
        gold = [LABEL2ID[row["label"]] for row in rows]
        confidence, accuracy, count = reliability_bins(probs, gold, bins)
        filled = count > 0
        ax.plot(confidence[filled], accuracy[filled], marker="o", label=name)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("confidence (top label)")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
