"""Baselines behind the same interface as the transformer: TF-IDF + logistic regression,
and a transparent keyword-rule model. Both save as plain JSON (no pickles)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .data import model_inputs
from .labels import LABEL2ID, LABELS


class TfidfLogReg:
    """Word and bigram TF-IDF features into a multinomial logistic regression."""

    kind = "tfidf_logreg"
    window = None  # reads every word of a sentence

    def __init__(self, C: float = 4.0, ngram_max: int = 2, min_df: int = 1,
                 class_weights: bool = True, max_iter: int = 2000) -> None:
        self.C = C
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.use_class_weights = class_weights
        self.max_iter = max_iter
        self.vectorizer: TfidfVectorizer | None = None
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None

    def _vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(ngram_range=(1, self.ngram_max), min_df=self.min_df,
                               sublinear_tf=True, lowercase=True)

    def fit(self, train: list[dict], selection: list[dict], *, context: bool, settings: dict,
            work_dir: Path, seed: int, resume: bool = False,
            monitor: dict[str, list[dict]] | None = None) -> dict:
        train = [r for r in train if r.get("label")]  # it cannot learn from soft labels
        texts, _ = model_inputs(train, False)
        self.vectorizer = self._vectorizer()
        features = self.vectorizer.fit_transform(texts)
        classifier = LogisticRegression(
            C=self.C, max_iter=self.max_iter, random_state=seed,
            class_weight="balanced" if self.use_class_weights else None,
        )
        classifier.fit(features, [LABEL2ID[r["label"]] for r in train],
                       sample_weight=[r.get("weight", 1.0) for r in train])
        if len(classifier.classes_) != len(LABELS):
            raise ValueError(f"training data must contain all of {', '.join(LABELS)}")
        self.coef = classifier.coef_
        self.intercept = classifier.intercept_
        return {"vocabulary": len(self.vectorizer.vocabulary_)}

    def logits(self, texts: list[str], contexts: list[str | None] | None = None,
               batch_size: int = 64) -> np.ndarray:
        return np.asarray(self.vectorizer.transform(texts) @ self.coef.T) + self.intercept

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "vocabulary": {term: int(i) for term, i in self.vectorizer.vocabulary_.items()},
            "idf": self.vectorizer.idf_.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "params": self.describe(),
        }
        (path / "tfidf_logreg.json").write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, meta: dict, device: str = "auto") -> TfidfLogReg:
        state = json.loads((path / "tfidf_logreg.json").read_text(encoding="utf-8"))
        params = state["params"]
        model = cls(C=params["C"], ngram_max=params["ngram_max"], min_df=params["min_df"],
                    class_weights=params["class_weights"])
        model.vectorizer = model._vectorizer()
        model.vectorizer.vocabulary_ = state["vocabulary"]
        model.vectorizer.idf_ = np.asarray(state["idf"])
        model.coef = np.asarray(state["coef"])
        model.intercept = np.asarray(state["intercept"])
        return model

    def describe(self) -> dict:
        return {"C": self.C, "ngram_max": self.ngram_max, "min_df": self.min_df,
                "class_weights": self.use_class_weights,
                "parameters": 0 if self.coef is None
                else int(self.coef.size + self.intercept.size)}


_CONDITION = (r"\b(if|unless|should (?:the|they|it|any|he|she|we|you)|once|in case|"
              r"provided that|as long as|any \w+(?: \w+)? (?:would|will) be (?:regarded|seen|"
              r"treated|considered|met))\b")
_HOSTILE = (r"\b(threat\w*|warn\w*|condemn\w*|accus\w*|aggress\w*|attack\w*|strik\w*|"
            r"destroy\w*|wipe\w* out|retaliat\w*|provocat\w*|invad\w*|invasion|occup\w*|"
            r"shell\w*|bomb\w*|missiles? (?:hit|struck)|sanction\w*|expel\w*|crackdown|"
            r"blackmail\w*|hostil\w*|illegal\w*|crimes?|terroris\w*|must withdraw|"
            r"reckless|lies|liars?|puppet\w*|regime)\b")


class KeywordRules:
    """A condition marker means conditional; otherwise a hostile keyword means hostile;
    otherwise neutral. The lexicons are fixed and readable; ``fit`` learns nothing."""

    kind = "keyword_rules"
    window = None  # reads every word of a sentence

    def __init__(self, condition_pattern: str = _CONDITION, hostile_pattern: str = _HOSTILE,
                 margin: float = 2.0) -> None:
        self.condition_pattern = condition_pattern
        self.hostile_pattern = hostile_pattern
        self.margin = margin
        self._condition = re.compile(condition_pattern, re.I)
        self._hostile = re.compile(hostile_pattern, re.I)

    def fit(self, train: list[dict], selection: list[dict], *, context: bool, settings: dict,
            work_dir: Path, seed: int, resume: bool = False,
            monitor: dict[str, list[dict]] | None = None) -> dict:
        return {}

    def logits(self, texts: list[str], contexts: list[str | None] | None = None,
               batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            if self._condition.search(text):
                out[i, LABEL2ID["conditional"]] = self.margin
            elif self._hostile.search(text):
                out[i, LABEL2ID["hostile"]] = self.margin
            else:
                out[i, LABEL2ID["neutral"]] = self.margin
        return out

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "keyword_rules.json").write_text(json.dumps(self.describe(), indent=2),
                                                 encoding="utf-8")

    @classmethod
    def load(cls, path: Path, meta: dict, device: str = "auto") -> KeywordRules:
        state = json.loads((path / "keyword_rules.json").read_text(encoding="utf-8"))
        return cls(state["condition_pattern"], state["hostile_pattern"], state["margin"])

    def describe(self) -> dict:
        return {"condition_pattern": self.condition_pattern,
                "hostile_pattern": self.hostile_pattern, "margin": self.margin, "parameters": 0}
