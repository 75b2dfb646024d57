"""The four commands as functions of their composed Hydra config: what ``scripts/*.py``
and the ``stancewatch`` command both run.

Each sets up the output first (see :mod:`stancewatch.console`) and imports the heavy
libraries only then, so that they start quiet; an input or configuration problem ends
the command with one line, ``error: <file>: <reason>`` (a traceback with
``verbose=true``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from .console import configure_output

# Problems with what the user gave (files, values) rather than bugs: OSError covers
# missing and unreadable files, ValueError bad values and DataError (bad data lines).
USER_ERRORS = (OSError, ValueError)


def _fail(err: Exception, verbose: bool) -> None:
    if verbose:
        raise err
    sys.exit(f"error: {err}")


class CheckOutputDir(Callback):
    """Ends a command with one line, before Hydra creates the run's folder (and fails there
    with a traceback), when that folder cannot take the outputs (see
    :func:`~stancewatch.outputs.check_writable`)."""

    @staticmethod
    def _check(directory: str) -> None:
        from .outputs import check_writable

        try:
            check_writable(Path(directory))
        except OSError as err:
            sys.exit(f"error: {err.strerror}")

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        self._check(config.hydra.run.dir)

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        self._check(config.hydra.sweep.dir)


ENGINES = ("local", "ray")


def score(cfg: DictConfig) -> None:
    """Score articles; print the most threatening ones and where the report is."""
    configure_output(cfg.verbose)
    from hydra.utils import instantiate

    from .scoring import score_path, threat_table

    try:
        if cfg.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {cfg.engine!r}")
        run = score_path(cfg.input, cfg.output_dir, cfg.model_dir, fmt=cfg.format,
                         batch_size=cfg.batch_size, device=cfg.device,
                         chunk_size=cfg.chunk_size, backend=cfg.backend, threads=cfg.threads,
                         engine=instantiate(cfg.ray) if cfg.engine == "ray" else None,
                         report_articles=cfg.report_articles, top=cfg.top, resume=cfg.resume,
                         max_article_bytes=cfg.max_article_bytes)
    except (*USER_ERRORS, ImportError) as err:
        _fail(err, cfg.verbose)
    print(threat_table(run.top))
    print(f"{run.n_articles} articles, {run.n_sentences} sentences scored -> {run.report}")
    if run.errors:
        sys.exit(f"{len(run.errors)} inputs failed: see {Path(cfg.output_dir) / 'errors.jsonl'}")


def _training_summary(run_dir: Path) -> str:
    from .model_card import CARD_FILE
    from .records import read_record

    record = read_record(run_dir)
    lines = [f"{'':<12} {'n':>6} {'accuracy':>8} {'macro-F1':>8} {'ECE':>6}"]
    for name, m in record["metrics"].items():
        lines.append(f"{name:<12} {m['n']:>6} {m['accuracy']:>8.3f} {m['macro_f1']:>8.3f} "
                     f"{m.get('ece', float('nan')):>6.3f}")
    lines.append(f"run       -> {run_dir}")
    lines.append(f"model     -> {run_dir / 'model'} (model card: {CARD_FILE})")
    export = record.get("config", {}).get("export_dir")
    if export:
        lines.append(f"exported  -> {export}")
    return "\n".join(lines)


def train(cfg: DictConfig) -> float:
    """Train one model; print its metrics and where the run and the model are. Returns
    the validation macro-F1 (the objective of a sweep)."""
    configure_output(cfg.verbose)
    from hydra.core.hydra_config import HydraConfig

    from .training import is_main_process, run_training

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        objective = run_training(cfg, run_dir)
    except USER_ERRORS as err:
        _fail(err, cfg.verbose)
    if is_main_process():
        print(_training_summary(run_dir))
    return objective


def evaluate(cfg: DictConfig) -> None:
    """Evaluate a saved model on a labelled JSON Lines file."""
    configure_output(cfg.verbose)
    from .evaluation import evaluate_file

    try:
        metrics = evaluate_file(cfg.model_dir, cfg.data.path, cfg.output_dir,
                                batch_size=cfg.batch_size, device=cfg.device, name=cfg.data.name,
                                split=cfg.data.split, backend=cfg.backend)
    except (*USER_ERRORS, ImportError) as err:
        _fail(err, cfg.verbose)
    print(f"n={metrics['n']} accuracy={metrics['accuracy']:.3f} macro_f1={metrics['macro_f1']:.3f}"
          f" -> {cfg.output_dir}")


def _comparison(cfg: DictConfig) -> str:
    from .compare import (
        build_table,
        compare_pair,
        discover_runs,
        load_run,
        render_pair,
        to_markdown,
        write_comparison,
        write_pair,
    )

    metrics = list(cfg.metrics) if cfg.metrics else None
    if cfg.a or cfg.b:
        if not (cfg.a and cfg.b):
            raise ValueError("give both a=RUN_DIR and b=RUN_DIR")
        pair = compare_pair(load_run(cfg.a), load_run(cfg.b), cfg.dataset, metrics,
                            cfg.resamples, cfg.bootstrap_seed, cfg.confidence)
        write_pair(pair, cfg.output_dir)
        return render_pair(pair)
    runs = discover_runs(cfg.runs_dir, tag=cfg.tag, name=cfg.name,
                         since=cfg.since, until=cfg.until)
    if not runs:
        raise ValueError(f"no training runs under {cfg.runs_dir} match")
    table = build_table(runs, metrics, cfg.sort_by, cfg.descending, cfg.group_seeds)
    write_comparison(table, cfg.output_dir, cfg.dataset)
    return to_markdown(table)


def compare(cfg: DictConfig) -> None:
    """Tabulate training runs, or compare two in detail (``a=`` and ``b=``)."""
    configure_output(cfg.verbose)
    try:
        text = _comparison(cfg)
    except USER_ERRORS as err:
        _fail(err, cfg.verbose)
    print(text)
    print(f"-> {cfg.output_dir}")


# Command name -> (function, its primary config, what it does).
COMMANDS: dict[str, tuple[Callable[[DictConfig], object], str, str]] = {
    "score": (score, "score", "label every sentence of articles; write a report"),
    "train": (train, "train", "train a model from the Hydra config"),
    "evaluate": (evaluate, "evaluate", "evaluate a saved model on labelled sentences"),
    "compare": (compare, "compare", "compare training runs side by side"),
}
