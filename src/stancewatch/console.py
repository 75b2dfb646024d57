"""What a run prints. Quiet by default: stancewatch's own messages, one progress bar per
long step, one line per error, and where the outputs are. ``verbose=true`` lets the
libraries' logs, warnings and progress bars through (weight loading, load reports, the
Trainer's per-log lines)."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

# Read by transformers, datasets, huggingface_hub and tokenizers when first imported:
# set before the commands import them.
QUIET_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "DATASETS_VERBOSITY": "error",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
_verbose = False


def configure_output(verbose: bool) -> None:
    """Quiet (the default) or verbose output for this process; call it before the heavy
    libraries are imported. A variable the user set keeps its value."""
    global _verbose
    _verbose = verbose
    if verbose:
        logging.getLogger().setLevel(logging.INFO)
        return
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    warnings.simplefilter("ignore")


def is_verbose() -> bool:
    return _verbose


@contextmanager
def libraries_quiet(*names: str) -> Iterator[None]:
    """Within the block, the named loggers ("" is the root, where some libraries log
    directly) show errors only, unless output is verbose."""
    if _verbose:
        yield
        return
    loggers = [logging.getLogger(name or None) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class ConsoleFormatter(logging.Formatter):
    """Messages as they are; warnings and errors prefixed with their level, as one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            message = f"{record.levelname.lower()}: {message}"
        return message
