"""``StanceClassifier``: load a saved model and label sentences and whole articles."""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from .articles import ARTICLE_FIELDS
from .calibration import softmax_with_temperature
from .cleaning import language_flags
from .labels import LABEL2ID, LABELS
from .model_checks import ModelError, check_meta, check_no_pickles
from .records import META_FILE
from .runtime import ONNX_BACKENDS, resolve_backend
from .runtime.batching import TokenWindow
from .segment import Sentence, fit_window, model_text, split_sentences

DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "default"
# Model kinds and where they live, imported on first load: scoring with ONNX Runtime never
# imports the training stack (the Trainer, datasets, scikit-learn: about 200 MB).
MODEL_KINDS = {"transformer": "modeling:TransformerModel",
               "tfidf_logreg": "baselines:TfidfLogReg", "keyword_rules": "baselines:KeywordRules"}
TOP_SENTENCES = 3
# Articles whose sentences share one sorted pass: bigger sorts better, smaller streams sooner.
CHUNK_SIZE = 64


def sentence_threat(probabilities: np.ndarray) -> np.ndarray:
    """Per sentence, P(hostile) + P(conditional): the chance it carries a threat."""
    return probabilities[:, LABEL2ID["hostile"]] + probabilities[:, LABEL2ID["conditional"]]


def threat_score(probabilities: np.ndarray) -> float:
    """An article's threat score in [0, 1]: the mean of its top-3 sentence threats
    (see :func:`sentence_threat`).

    Top-3 rather than max keeps one odd sentence from deciding; rather than the mean over
    all sentences, it keeps long articles with a few threats from being diluted.
    """
    if len(probabilities) == 0:
        return 0.0
    return float(np.sort(sentence_threat(probabilities))[::-1][:TOP_SENTENCES].mean())


def load_meta(path: str | Path | None = None) -> tuple[Path, dict]:
    """A saved model's folder (``None``: ``models/default``) and its ``stancewatch.json``,
    checked (see :mod:`stancewatch.model_checks`); raises ``FileNotFoundError`` saying how
    to get a model when there is none, :class:`ModelError` for a folder not to use."""
    path = Path(path) if path is not None else DEFAULT_MODEL_DIR
    meta_path = path / META_FILE
    if not meta_path.is_file():
        hint = ("train it with `make model`" if path == DEFAULT_MODEL_DIR
                else "point to a run's model/ directory or to models/default")
        raise FileNotFoundError(f"no stancewatch model at {path} ({META_FILE} missing): {hint}")
    check_no_pickles(path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{meta_path}: not valid JSON ({err})") from None
    return path, check_meta(meta, meta_path, MODEL_KINDS)


class StanceModel(Protocol):
    """What a model kind offers (TransformerModel, TfidfLogReg, KeywordRules); ``load`` is
    a classmethod ``load(path, meta, device)`` on each. Scoring needs only ``logits``, which
    is all that a transformer run by another runtime (``OnnxTransformer``) has."""

    kind: str
    # The tokens of a sentence the model reads (None: all of them).
    window: TokenWindow | None

    def fit(self, train: list[dict], selection: list[dict], *, context: bool, settings: dict,
            work_dir: Path, seed: int, resume: bool = False,
            monitor: dict[str, list[dict]] | None = None) -> dict: ...

    def logits(self, texts: list[str], contexts: list[str | None] | None = None,
               batch_size: int = 64) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...

    def describe(self) -> dict: ...


class StanceClassifier:
    """A trained stance model with its calibration and input settings.

    ``predict`` follows the transformers text-classification pipeline's output shape.
    """

    def __init__(self, model: StanceModel, meta: dict, backend: str | None = None) -> None:
        self.model = model
        # What a model folder must record (see model_checks), where the caller left it out.
        self.meta = {"labels": list(LABELS), "context": "none", "temperature": 1.0, **meta}
        # The runtime (see stancewatch.runtime); "native" for models that are not transformers.
        self.backend = backend or ("torch" if model.kind == "transformer" else "native")

    @property
    def context(self) -> str:
        return self.meta["context"]

    @property
    def temperature(self) -> float:
        return float(self.meta["temperature"])

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "auto", backend: str = "auto",
             threads: int | None = None) -> StanceClassifier:
        """Load a saved model directory; ``None`` loads ``models/default``.

        ``backend`` is the runtime of a transformer model: ``torch``, ``onnx``,
        ``onnx_int8`` or ``auto`` (see :mod:`stancewatch.runtime`); an ONNX backend
        exports the model into its folder on first use. ``threads`` caps the CPU threads
        (default: every core this process may use).
        """
        path, meta = load_meta(path)
        backend = resolve_backend(backend, meta["kind"], device)
        if backend in ONNX_BACKENDS:
            from .runtime.onnx import OnnxTransformer

            return cls(OnnxTransformer.load(path, meta, backend, threads), meta, backend)
        if threads:
            import torch

            torch.set_num_threads(threads)  # process-wide: PyTorch has one intra-op pool
        module, name = MODEL_KINDS[meta["kind"]].split(":")
        kind = getattr(importlib.import_module(f".{module}", __package__), name)
        return cls(kind.load(path, meta, device=device), meta, backend)

    def save(self, path: str | Path) -> None:
        if self.backend in ONNX_BACKENDS:
            raise ValueError(f"a classifier loaded with backend={self.backend} cannot be saved:"
                             " its ONNX files derive from the PyTorch model (backend=torch)")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.save(path)
        (path / META_FILE).write_text(json.dumps(self.meta, indent=2), encoding="utf-8")

    def predict_proba(self, texts: list[str], contexts: list[str | None] | None = None,
                      batch_size: int = 64) -> np.ndarray:
        """Calibrated probabilities, shape (len(texts), 3), columns in LABELS order.

        Transformer models run the texts shortest first, in batches of ``batch_size``
        (little padding), and return them in input order."""
        texts = [model_text(t) for t in texts]
        if self.context == "previous":
            contexts = [model_text(c) if c else None for c in (contexts or [None] * len(texts))]
        else:
            contexts = None
        logits = self.model.logits(texts, contexts, batch_size=batch_size)
        return softmax_with_temperature(logits, self.temperature)

    def predict(self, texts: str | list[str], contexts: list[str | None] | None = None,
                batch_size: int = 64, top_k: int | None = 1) -> list:
        """Like the text-classification pipeline: one ``{"label", "score"}`` dict per text
        with ``top_k=1``, else a list of the ``top_k`` (``None``: all) sorted by score.
        A single string gives the result for that string alone."""
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        probabilities = self.predict_proba(batch, contexts, batch_size)
        results = []
        for row in probabilities:
            ranked = [{"label": LABELS[i], "score": float(row[i])} for i in np.argsort(-row)]
            results.append(ranked[0] if top_k == 1 else ranked[:top_k])
        return results[0] if single else results

    def score_article(self, text: str, article_id: str | None = None,
                      batch_size: int = 64) -> dict:
        """Label every sentence of one article and summarise it."""
        return next(self.score_articles([{"id": article_id, "text": text}], batch_size))

    def score_articles(self, articles: Iterable[dict | str], batch_size: int = 64,
                       chunk_size: int = CHUNK_SIZE) -> Iterator[dict]:
        """Score many articles (dicts with ``text`` and optional ``id``, or strings).

        Sentences of up to ``chunk_size`` articles go through the model in one pass (the
        more sentences, the better the length sort packs batches); results come back in
        input order. A sentence longer than the model's window is cut into pieces that
        fit (see :func:`~stancewatch.segment.fit_window`); an article that is mostly not
        English is flagged (see :mod:`stancewatch.cleaning`).
        """
        # Splitting is pure Python and the model runs mostly outside the GIL: the next
        # chunk is split in a thread while this one is scored.
        with ThreadPoolExecutor(1) as splitter:
            pending = None
            for chunk in self._chunks(articles, chunk_size):
                split = splitter.submit(lambda c: [self.sentences(a["text"]) for a in c], chunk)
                if pending is not None:
                    yield from self._score_chunk(*pending, batch_size)
                pending = chunk, split
            if pending is not None:
                yield from self._score_chunk(*pending, batch_size)

    @cached_property
    def _window(self) -> TokenWindow | None:
        # score_articles counts tokens in its splitter thread while the model's tokenizer
        # encodes in this one, and a fast tokenizer must not be shared across threads
        # (each call resets its truncation): the window counts with a copy of its own.
        window = self.model.window
        return window and TokenWindow(copy.deepcopy(window.tokenizer), window.max_length)

    def sentences(self, text: str) -> list[Sentence]:
        """The rows an article is scored in: its sentences, fitted to the model's window."""
        window = self._window
        sentences = split_sentences(text)
        return sentences if window is None else fit_window(sentences, window.budget,
                                                           window.count)

    @staticmethod
    def _chunks(articles: Iterable[dict | str], chunk_size: int) -> Iterator[list[dict]]:
        chunk: list[dict] = []
        for number, article in enumerate(articles):
            if isinstance(article, str):
                article = {"text": article}
            chunk.append({**article, "id": article.get("id") or f"article-{number}"})
            if len(chunk) == chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _score_chunk(self, articles: list[dict], split: Future, batch_size: int) -> list[dict]:
        split = split.result()
        flat = [(a, s, sentences[s.index - 1].text if s.index else None)
                for a, sentences in zip(articles, split, strict=True) for s in sentences]
        probabilities = self.predict_proba([s.text for _, s, _ in flat],
                                           [context for _, _, context in flat], batch_size)
        results, offset = [], 0
        for article, sentences in zip(articles, split, strict=True):
            probs = probabilities[offset: offset + len(sentences)]
            offset += len(sentences)
            results.append(self._summarise(article, sentences, probs))
        return results

    def _summarise(self, article: dict, sentences: list, probs: np.ndarray) -> dict:
        rows = []
        for sentence, p in zip(sentences, probs, strict=True):
            rows.append({
                "index": sentence.index, "start": sentence.start, "end": sentence.end,
                "text": sentence.text, "label": LABELS[int(p.argmax())],
                "score": float(p.max()),
                "scores": {label: float(p[i]) for i, label in enumerate(LABELS)},
                "flags": list(sentence.flags),
            })
        threat = sentence_threat(probs)
        top = sorted(range(len(rows)), key=lambda i: -threat[i])[:TOP_SENTENCES]
        extra = {k: article[k] for k in ARTICLE_FIELDS if article.get(k) is not None}
        flags = sorted({*article.get("flags", ()), *language_flags(article["text"])})
        return {
            "article_id": article["id"], **extra, "flags": flags,
            "sentences": rows,
            "summary": {
                "n_sentences": len(rows),
                "counts": {label: sum(r["label"] == label for r in rows) for label in LABELS},
                "threat_score": threat_score(probs),
                "top_threats": [{"index": rows[i]["index"], "text": rows[i]["text"],
                                 "label": rows[i]["label"], "threat": float(threat[i])}
                                for i in top if rows[i]["label"] != "neutral"],
            },
        }
