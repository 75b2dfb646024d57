"""Shared fixtures: a tiny random BERT with its tokenizer, a small labelled corpus, and
Hydra config composition, so that training runs for real in seconds."""

from __future__ import annotations

import json
import math
import os
import random
import re
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

HOSTILE = [
    "The ministry condemned the {x} as a reckless provocation.",
    "Officials accused {p} of shelling the {x} overnight.",
    "{p} threatened to destroy the {x} within days.",
    "Troops from {p} attacked the {x} at dawn.",
]
CONDITIONAL = [
    "If {p} sends the {x}, relations will be ruined.",
    "Any move on the {x} would be regarded as war, {p} said.",
    "Should talks fail, {p} will cut the {x}.",
    "{p} will respond unless the {x} stops.",
]
NEUTRAL = [
    "The talks on the {x} will resume in Geneva on Monday.",
    "{p} declined to comment on the {x}.",
    "The {x} was built in 1990 near the border.",
    "Delegates from {p} met to discuss the {x} budget.",
]
PARTIES = ["Norland", "Sudria", "Ostmark", "Veloria", "Tarsis", "Quenby"]
THINGS = ["pipeline", "port", "convoy", "bridge", "dam", "garrison", "airfield", "shipment"]


def make_rows(n_articles: int, seed: int = 0, prefix: str = "art") -> list[dict]:
    """Articles of six sentences with all three labels, split 60/20/20 by article."""
    rng = random.Random(seed)
    rows = []
    for a in range(n_articles):
        split = ("train", "train", "train", "validation", "test")[a % 5]
        labels = ["hostile", "conditional", "neutral", "neutral", "hostile", "conditional"]
        rng.shuffle(labels)
        for position, label in enumerate(labels):
            pool = {"hostile": HOSTILE, "conditional": CONDITIONAL, "neutral": NEUTRAL}[label]
            text = rng.choice(pool).format(p=rng.choice(PARTIES), x=rng.choice(THINGS))
            rows.append({"id": f"{prefix}{a}-{position}", "article_id": f"{prefix}{a}",
                         "position": position, "text": text, "label": label, "split": split})
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def same(a, b) -> bool:
    """Equal, floats to 1e-6: how rows from differently batched runs (another engine, a
    resumed run) compare, since batching moves the last bits."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, abs_tol=1e-6)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide random BERT saved as safetensors, with a WordPiece tokenizer
    whose vocabulary covers the test sentences."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    out = tmp_path_factory.mktemp("tiny_bert")
    words = set()
    for template in HOSTILE + CONDITIONAL + NEUTRAL:
        words.update(re.findall(r"\w+|[^\w\s]", template.lower()))
    words.update(w.lower() for w in PARTIES + THINGS)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words - {"x", "p"})]
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(out / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=256)
    BertModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_backbone) -> Path:
    """One tiny BERT trained through the real training path, shared by the session
    (``train_tiny`` trains one per test); tests that write into a model folder copy it."""
    from stancewatch.training import run_training

    root = tmp_path_factory.mktemp("tiny_model")
    corpus = write_jsonl(root / "corpus.jsonl", make_rows(20))
    run_dir = root / "run"
    run_dir.mkdir()
    run_training(compose_train(tiny_overrides(root, corpus, tiny_backbone)), run_dir)
    return run_dir / "model"


@pytest.fixture()
def corpus(tmp_path) -> Path:
    return write_jsonl(tmp_path / "corpus.jsonl", make_rows(20))


def compose_train(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        return compose(config_name="train", overrides=overrides)


def tiny_overrides(tmp_path: Path, corpus: Path, backbone: Path, *extra: str) -> list[str]:
    """Overrides for a seconds-long run; a baseline (``model=...``) keeps its own model keys."""
    baseline = any(e.startswith("model=") for e in extra)
    model = [] if baseline else [f"model.backbone={backbone}", "model.max_length=32"]
    return [
        f"paths.root_dir={tmp_path}",
        f"data.corpus={corpus}",
        "data.real_labels=null",
        *model,
        "trainer=smoke",
        "trainer.progress_bar=false",
        "device=cpu",
        *extra,
    ]


@pytest.fixture()
def train_tiny(tmp_path, corpus, tiny_backbone):
    """Train the tiny BERT through the real training path; returns the run dir."""
    from stancewatch.training import run_training

    def run(*extra: str, run_dir: Path | None = None) -> Path:
        cfg = compose_train(tiny_overrides(tmp_path, corpus, tiny_backbone, *extra))
        target = run_dir or tmp_path / "runs" / cfg.run_id
        target.mkdir(parents=True, exist_ok=True)
        run_training(cfg, target)
        return target

    return run


def make_news(root: Path, n_articles: int = 15, seed: int = 3) -> tuple[Path, Path]:
    """A small news archive like ../shared's (``articles.jsonl``: id, text, ...) and a
    label file for every one of its sentences by id and offsets: the first third of the
    articles is ``dev``, the next ``test``, the rest ``train``."""
    from stancewatch.sources import news_sentences

    rows = make_rows(n_articles, seed=seed, prefix="n")
    articles = {}
    for row in rows:
        articles.setdefault(row["article_id"], []).append(row)
    news = root / "articles.jsonl"
    write_jsonl(news, [{"id": a, "title": f"Story {a}", "date": "2019-01-02", "source": "Wire",
                        "text": " ".join(r["text"] for r in sentences)}
                       for a, sentences in articles.items()])
    gold = {(r["article_id"], r["position"]): r["label"] for r in rows}
    order = list(articles)
    labels = []
    for sentence in news_sentences(news):
        article = sentence["article_id"].split(":", 1)[1]
        third = 3 * order.index(article) // len(order)
        labels.append({"id": sentence["id"], "split": ("dev", "test", "train")[third],
                       "label": gold[(article, sentence["position"])]})
    return news, write_jsonl(root / "news_labels.jsonl", labels)


# Property tests: a short budget in CI (seconds); HYPOTHESIS_PROFILE=fuzz searches longer.
settings.register_profile("ci", max_examples=1000, deadline=None, print_blob=True)
settings.register_profile("fuzz", max_examples=20_000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
