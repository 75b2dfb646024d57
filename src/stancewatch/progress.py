"""One progress bar for a whole Trainer fit, in place of the Trainer's own console output
(a bar per evaluation and a printed dict per log)."""

from __future__ import annotations

import sys

from tqdm.auto import tqdm
from transformers import Trainer, TrainerCallback
from transformers.trainer import DEFAULT_PROGRESS_CALLBACK
from transformers.trainer_callback import PrinterCallback

from .console import is_verbose


class TrainingBar(TrainerCallback):
    """Steps done, with the latest training loss and the selection sets' macro-F1
    (the metric that picks the checkpoint) alongside."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.shown: dict[str, str] = {}

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="training",
                            unit="step", dynamic_ncols=True, file=sys.stderr)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is None or not logs:
            return
        if "loss" in logs:
            self.shown["loss"] = f"{logs['loss']:.3f}"
        if "eval_selection_macro_f1" in logs:
            self.shown["dev macro-F1"] = f"{logs['eval_selection_macro_f1']:.3f}"
        self.bar.set_postfix(self.shown, refresh=True)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def use_one_bar(trainer: Trainer, progress_bar: bool) -> None:
    """Unless output is verbose, replace the Trainer's console output with a
    :class:`TrainingBar` (none when ``progress_bar`` is false); the logs still reach
    ``log_history``."""
    if is_verbose():
        return
    trainer.remove_callback(DEFAULT_PROGRESS_CALLBACK)
    trainer.remove_callback(PrinterCallback)
    if progress_bar:
        trainer.add_callback(TrainingBar())
