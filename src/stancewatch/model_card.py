"""Model cards: a ``README.md`` in every model folder, in the Hugging Face layout (YAML
front matter with a ``model-index``, then sections), written from the run's own records
(``run.json`` and the model's ``stancewatch.json``) so that it never disagrees with them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .labels import DESCRIPTIONS, LABELS
from .records import META_FILE, RECORD_FILE, read_record

CARD_FILE = "README.md"
WEAKNESSES_HEADING = "## Known weaknesses"
# Hub ids of the backbones the project ships configs for (a card's ``base_model``).
BASE_MODELS = {
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
    "all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
    "all-mpnet-base-v2": "sentence-transformers/all-mpnet-base-v2",
}
# What the evaluation sets a run may report are; any other name is shown as it is.
DATASETS = {
    "test": ("Authored test split", "held out by article; same authors as the training split"),
    "validation": ("Authored validation split", "held out by article"),
    "speech_dev": ("Real speech dev set", "hand-labelled sentences of UN speeches"),
    "news_dev": ("Real news dev set", "hand-labelled sentences of real news articles"),
    "news_test": ("Real news test set", "hand-labelled sentences of real news articles, "
                  "held out from every model choice"),
}
SOURCES = {
    "authored": "authored news-style articles (the project's corpus)",
    "ungdc": "UN General Debate speeches, hand-labelled",
    "unscon": "UN Security Council speeches (UNSCon), hand-labelled",
    "news": "real news articles, hand-labelled",
    "teacher": "sentences labelled by a teacher model",
}
KINDS = {
    "transformer": "a fine-tuned transformer encoder with a 3-way classification head",
    "tfidf_logreg": "TF-IDF features into a logistic regression (a baseline)",
    "keyword_rules": "transparent keyword rules (a baseline)",
}
TRAINER_KEYS = (("trainer.lr", "learning rate"), ("trainer.epochs", "epochs (at most)"),
                ("trainer.max_steps", "max steps"), ("trainer.batch_size", "batch size"),
                ("trainer.warmup_steps", "warm-up (fraction of steps below 1)"),
                ("trainer.weight_decay", "weight decay"),
                ("trainer.patience", "early-stopping patience (evaluations)"),
                ("seed", "seed"))
# Invented for the card, like every example sentence the project commits.
EXAMPLE = "The ministry warned that the crossings would close if the raids went on."


def data_card_path(record: dict | None) -> str | None:
    """The data card a run's config names (``data_card``); runs recorded before that key
    existed get its default, ``<paths.data_dir>/DATA_CARD.md``."""
    config = (record or {}).get("config") or {}
    if config.get("data_card"):
        return config["data_card"]
    return f"{config['paths.data_dir']}/DATA_CARD.md" if config.get("paths.data_dir") else None


def known_weaknesses(data_card: str | Path | None) -> str | None:
    """The data card's "Known weaknesses" section (Markdown, heading excluded), or None
    when there is no data card or no such section."""
    if data_card is None or not Path(data_card).is_file():
        return None
    lines = Path(data_card).read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines)
                     if line.strip().lower() == WEAKNESSES_HEADING.lower())
    except StopIteration:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    return "\n".join(lines[start + 1:end]).strip() or None


def base_model(backbone: str | None) -> str | None:
    """The hub id of a known backbone (given by name or as a local folder), else None."""
    if not backbone:
        return None
    return BASE_MODELS.get(backbone) or BASE_MODELS.get(Path(backbone).name)


def train_sources(meta: dict, record: dict | None) -> dict[str, int] | None:
    """Training sentences per source, from the model's metadata or the run record."""
    sources = meta.get("train_sources") or ((record or {}).get("train") or {}).get("sources")
    return dict(sources) if sources else None


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _front_matter(meta: dict, record: dict | None, name: str) -> dict:
    front: dict = {"license": "apache-2.0", "language": ["en"]}
    if meta.get("kind") == "transformer":
        front["library_name"] = "transformers"
    front["pipeline_tag"] = "text-classification"
    front["tags"] = ["stancewatch", "stance-detection", "text-classification", "news"]
    if base := base_model(meta.get("backbone")):
        front["base_model"] = base
    results = []
    for dataset, metrics in ((record or {}).get("metrics") or {}).items():
        title = DATASETS.get(dataset, (dataset, ""))[0]
        values = [{"type": "f1", "value": round(metrics["macro_f1"], 4), "name": "Macro F1",
                   "args": {"average": "macro"}},
                  {"type": "accuracy", "value": round(metrics["accuracy"], 4),
                   "name": "Accuracy"}]
        values += [{"type": "f1", "value": round(metrics["per_class"][label]["f1"], 4),
                    "name": f"F1 ({label})"} for label in LABELS]
        if metrics.get("ece") is not None:
            values.append({"type": "ece", "value": round(metrics["ece"], 4),
                           "name": "Expected calibration error (10 bins)"})
        results.append({
            "task": {"type": "text-classification",
                     "name": "Sentence stance (hostile / conditional / neutral)"},
            "dataset": {"name": title, "type": dataset},
            "metrics": values,
        })
    if results:
        front["model-index"] = [{"name": name, "results": results}]
    return front


def _labels_section() -> list[str]:
    rows = [f"| `{label}` | {DESCRIPTIONS[label]} |" for label in LABELS]
    return ["## Labels", "",
            "One label per sentence, by the stance it carries toward another party:", "",
            "| label | meaning |", "|---|---|", *rows, "",
            "The full definitions, with rules for the hard cases, are the project's "
            "annotation guide, `LABELS.md` (`../shared/LABELS.md` next to the project). "
            "An article's threat score is the mean P(hostile) + P(conditional) of its three "
            "most threatening sentences.", ""]


def _model_section(meta: dict, record: dict | None) -> list[str]:
    kind = meta.get("kind", "unknown")
    rows = [("kind", KINDS.get(kind, kind))]
    if meta.get("backbone"):
        base = base_model(meta["backbone"])
        rows.append(("backbone", f"`{base}`" + (f" (`{meta['backbone']}`)"
                                               if meta["backbone"] != base else "")
                     if base else f"`{meta['backbone']}`"))
    if meta.get("parameters"):
        rows.append(("parameters", f"{meta['parameters'] / 1e6:.1f} M ({meta['parameters']:,})"))
    if record and record.get("model_bytes"):
        rows.append(("size on disk", f"{record['model_bytes'] / 2**20:.1f} MiB"))
    if meta.get("max_length"):
        rows.append(("max length", f"{meta['max_length']} tokens"))
    if "freeze_encoder" in meta:
        rows.append(("encoder", "frozen (only the head learned)" if meta["freeze_encoder"]
                     else "fully fine-tuned"))
    rows.append(("context", "the previous sentence of the article, as a second segment"
                 if meta.get("context") == "previous" else "none (each sentence alone)"))
    calibration = (record or {}).get("calibration") or {}
    temperature = f"{meta.get('temperature', 1.0):.4f}"
    if calibration:
        temperature += (f" (fitted on {_fitted_on(record)}; its ECE "
                        f"{_f(calibration.get('ece_before'))} before, "
                        f"{_f(calibration.get('ece_after'))} after)")
    rows.append(("calibration temperature", temperature))
    rows.append(("labels (output order)", ", ".join(meta.get("labels", LABELS))))
    if meta.get("git_commit"):
        rows.append(("code", f"stancewatch at commit `{meta['git_commit']}`"))
    if meta.get("created"):
        rows.append(("created", meta["created"]))
    return ["## Model", "", "| | |", "|---|---|",
            *(f"| {key} | {value} |" for key, value in rows), ""]


def _data_section(meta: dict, record: dict | None) -> list[str]:
    lines = ["## Training data", ""]
    sources = train_sources(meta, record)
    train = (record or {}).get("train") or {}
    if sources:
        lines += ["| source | sentences |", "|---|---:|"]
        lines += [f"| {SOURCES.get(name, name)} (`{name}`) | {count:,} |"
                  for name, count in sources.items()]
        lines += [f"| **total** | **{sum(sources.values()):,}** |", ""]
    elif train.get("n"):
        config = (record or {}).get("config") or {}
        where = (f" from `{_shown(config['data.corpus'], record)}`"
                 if config.get("data.corpus") else "")
        lines += [f"{train['n']:,} sentences{where}. This run did not record "
                  "counts per source.", ""]
    else:
        lines += ["No run record (`run.json`) came with this model: its training data "
                  "is unknown.", ""]
    if meta.get("train_data_hash"):
        lines += [f"Training data hash: `{meta['train_data_hash']}` (texts and labels).", ""]
    data_card = data_card_path(record)
    shown = _shown(data_card, record) if data_card else "data/DATA_CARD.md"
    return lines + [f"Provenance, counts, agreement and licences: the data card, `{shown}`.", ""]


def _evaluation_section(record: dict | None) -> list[str]:
    metrics = (record or {}).get("metrics") or {}
    if not metrics:
        return ["## Evaluation", "", "No evaluation results were recorded for this model.",
                ""]
    paths = {e["dataset"]: e.get("data_path") for e in (record or {}).get("evaluations", [])}
    head = ("| set | n | accuracy | macro F1 | "
            + " | ".join(f"F1 {label}" for label in LABELS) + " | ECE |")
    lines = ["## Evaluation", "", head, "|---" + "|---:" * (len(LABELS) + 4) + "|"]
    notes = []
    selected_on = set((record or {}).get("calibration", {}).get("fitted_on", []))
    for dataset, m in metrics.items():
        title, note = DATASETS.get(dataset, (dataset, ""))
        if dataset in selected_on:
            note = f"{note}; in-sample: it picked the checkpoint and fitted the temperature"
        if dataset in paths:
            note = f"evaluated later from `{paths[dataset]}`"
        if note:
            notes.append(f"- **{title}** (`{dataset}`): {note}.")
        per_class = " | ".join(_f(m["per_class"][label]["f1"]) for label in LABELS)
        lines.append(f"| {title} (`{dataset}`) | {m['n']:,} | {_f(m['accuracy'])} | "
                     f"{_f(m['macro_f1'])} | {per_class} | {_f(m.get('ece'))} |")
    return [*lines, "", *notes, "",
            "ECE: expected calibration error of the top label, 10 equal-width bins, "
            "after temperature scaling.", ""]


def _training_section(meta: dict, record: dict | None) -> list[str]:
    if not record:
        return []
    config, train = record.get("config") or {}, record.get("train") or {}
    rows = []
    if meta.get("kind") == "transformer":
        rows += [(label, config[key]) for key, label in TRAINER_KEYS
                 if config.get(key) is not None]
        rows.append(("class-weighted loss", "yes" if meta.get("class_weights") else "no"))
        if train.get("global_step") is not None:
            rows.append(("optimisation steps", train["global_step"]))
        if train.get("best_selection_macro_f1") is not None:
            rows.append((f"best macro F1 on {_fitted_on(record)} "
                         "(checkpoint kept)", _f(train["best_selection_macro_f1"])))
    else:
        rows.append(("seed", config.get("seed")))
    if train.get("seconds") is not None:
        rows.append(("training time", f"{train['seconds'] / 60:.1f} min"))
    rows.append(("run", f"`{record.get('name')}`, started {record.get('started')}"))
    return ["## Training procedure", "", "| | |", "|---|---|",
            *(f"| {key} | {value} |" for key, value in rows), ""]


def _fitted_on(record: dict | None) -> str:
    """The sets that picked the checkpoint and fitted the temperature, as Markdown."""
    sets = ((record or {}).get("calibration") or {}).get("fitted_on", [])
    return " + ".join(f"`{name}`" for name in sets) or "the selection sets"


def _use_section(meta: dict, record: dict | None, location: str) -> list[str]:
    context = meta.get("context") == "previous"
    lines = ["## Intended use", "",
             "Flagging and ranking sentences and articles of English-language news and "
             "political speech that carry threats, condemnations, hostile acts or "
             "conditional threats, for analysts, newsrooms and researchers who read what "
             f"it flags. Scores are probabilities calibrated on {_fitted_on(record)} "
             "(the ECE column above shows how well they hold elsewhere); they are "
             "meant for triage and aggregate trends, with a person reading the flagged "
             "text.", "",
             "Out of scope: decisions about individuals, other languages, and text far "
             "from news and speeches (social media, fiction) without checking it first.",
             ""]
    lines += ["## How to use", "", "```python", "from stancewatch import StanceClassifier",
              "", f'clf = StanceClassifier.load("{location}")',
              f'clf.predict("{EXAMPLE}")   # {{"label": ..., "score": ...}}',
              'clf.score_article(text)["summary"]      # per-article counts and threat score',
              "```", "",
              "From the command line: "
              f"`stancewatch score input=articles.jsonl model_dir={location} output_dir=out`.",
              ""]
    if meta.get("kind") != "transformer":
        return lines
    call = (f'classifier({{"text": "{EXAMPLE}", "text_pair": "<previous sentence>"}})'
            if context else f'classifier("{EXAMPLE}", top_k=None)')
    return lines + [
        "The folder is also a plain transformers model, so the `pipeline` loads it as is:",
        "", "```python", "from transformers import pipeline", "",
        f'classifier = pipeline("text-classification", model="{location}")', call, "```", "",
        f"The pipeline's scores are the raw softmax: the calibration temperature "
        f"({meta.get('temperature', 1.0):.4f}) is not applied (the top label is the same). "
        "`StanceClassifier` applies it"
        + (", normalises the text the way training did and pairs each sentence with the "
           "previous one." if context else " and normalises the text the way training did."),
        ""]


def _limitations_section(weaknesses: str | None) -> list[str]:
    lines = ["## Limitations", ""]
    if weaknesses:
        return lines + ["From the data card's \"Known weaknesses\":", "", weaknesses, ""]
    return lines + ["The data card with the known weaknesses of the training data was not "
                    "found when this card was written; see `data/DATA_CARD.md` in the "
                    "project.", ""]


def render_card(meta: dict, record: dict | None, weaknesses: str | None,
                location: str) -> str:
    """The card's Markdown for a model with metadata ``meta`` and run record ``record``
    (None when the model has none), loadable from ``location``."""
    name = f"stancewatch-{record['name']}" if record and record.get("name") else "stancewatch"
    front = yaml.safe_dump(_front_matter(meta, record, name), sort_keys=False,
                           allow_unicode=True)
    summary = (f"Labels every sentence of an English news article **hostile**, "
               f"**conditional** or **neutral**: {KINDS.get(meta.get('kind'), 'a model')}"
               + (f" on `{base_model(meta.get('backbone'))}`"
                  if base_model(meta.get("backbone")) else "") + ", trained by stancewatch.")
    body = [f"# {name}", "",
            "<!-- Written by stancewatch from run.json and stancewatch.json: regenerate it "
            "(stancewatch.model_card.write_model_card) rather than editing it. -->", "",
            summary, "",
            *_labels_section(), *_model_section(meta, record), *_data_section(meta, record),
            *_evaluation_section(record), *_training_section(meta, record),
            *_use_section(meta, record, location), *_limitations_section(weaknesses)]
    return f"---\n{front}---\n\n" + "\n".join(body).rstrip() + "\n"


def _shown(path: str | Path, record: dict | None) -> str:
    """How the card names a path: relative to the run's project root when inside it."""
    root = ((record or {}).get("config") or {}).get("paths.root_dir")
    path = Path(path).resolve()
    if root:
        try:
            return path.relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def write_model_card(model_dir: str | Path, record: dict | None = None) -> Path:
    """Write ``README.md`` into a saved model folder and return its path.

    ``record`` defaults to the ``run.json`` of the run the folder belongs to (a run's
    ``model/``); the limitations come from the run's data card (:func:`data_card_path`).
    """
    model_dir = Path(model_dir)
    meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    if record is None and (model_dir.parent / RECORD_FILE).is_file():
        record = read_record(model_dir.parent)
    card = render_card(meta, record, known_weaknesses(data_card_path(record)),
                       _shown(model_dir, record))
    path = model_dir / CARD_FILE
    path.write_text(card, encoding="utf-8")
    return path
