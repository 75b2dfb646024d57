"""Scoring outputs: per-sentence and per-article rows (JSON Lines, CSV), errors, and a
self-contained HTML report with every sentence highlighted by its label."""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from pathlib import Path

from .articles import ArticleError
from .charts import charts_html
from .labels import COLOURS, DESCRIPTIONS, LABELS

FORMATS = ("jsonl", "csv", "parquet")
REPORT_FILE = "report.html"
# A highlight's opacity grows with the label's probability, up to these.
MAX_ALPHA = {"hostile": 0.55, "conditional": 0.55, "neutral": 0.18}
# What each flag of an article or a sentence (see stancewatch.cleaning and .segment) tells
# a reader of the report.
FLAG_NOTES = {"html": "HTML tags removed", "invalid_utf8": "bytes that were not UTF-8 shown as �",
              "not_english": "mostly not English: the labels mean little",
              "cut": "part of a sentence too long for the model, scored on its own",
              "truncated": "the model read only the start of this piece"}

_STYLE = """
body{font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;
max-width:62rem;padding:1.5rem;color:#1d1d1f;background:#fff}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:0 0 .25rem}
.info,.meta{color:#666;font-size:.85rem}
.legend{display:flex;gap:.5rem;flex-wrap:wrap;margin:1rem 0}
.legend button{font:inherit;border:1px solid #ccc;border-radius:4px;padding:.2rem .6rem;
cursor:pointer;background:#fff}
.legend button[aria-pressed=false]{opacity:.45;text-decoration:line-through}
.swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;
vertical-align:-.1rem;margin-right:.35rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e5e5e5}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.6rem;background:#d62728;border-radius:2px;
vertical-align:middle;margin-left:.4rem}
.article{border-top:2px solid #e5e5e5;margin-top:2rem;padding-top:1rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin-top:.75rem}
.sent{border-radius:3px;padding:0 1px;cursor:help}
.errors li{font-family:ui-monospace,monospace;font-size:.85rem}
.charts{margin:1.25rem 0}svg.chart{width:100%;height:auto;display:block;margin-top:.5rem}
svg.chart .grid{stroke:#e5e5e5}svg.chart .tick{stroke:#999}
svg.chart .axis{font-size:12px;fill:#666}
.median{fill:none;stroke:#1d1d1f;stroke-width:2}
.chart-legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.85rem;margin:.25rem 0}
svg.mix{vertical-align:middle}td.date{white-space:nowrap}
details summary{cursor:pointer;margin:.5rem 0;color:#444}
"""

_SCRIPT = """
document.querySelectorAll(".legend button").forEach(function (button) {
  button.addEventListener("click", function () {
    var shown = button.getAttribute("aria-pressed") === "true";
    button.setAttribute("aria-pressed", shown ? "false" : "true");
    document.body.classList.toggle("hide-" + button.dataset.label, shown);
  });
});
"""


def _label_style() -> str:
    rules = []
    for label, (r, g, b) in COLOURS.items():
        rules.append(f".sent.{label}{{background:rgba({r},{g},{b},var(--a))}}"
                     f"body.hide-{label} .sent.{label}{{background:none}}"
                     f".swatch.{label}{{background:rgba({r},{g},{b},{MAX_ALPHA[label]})}}")
    return "\n".join(rules)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def sentence_rows(result: dict) -> list[dict]:
    """One row per sentence of a scored article (see ``StanceClassifier.score_articles``)."""
    return [{"article_id": result["article_id"], **row} for row in result["sentences"]]


def article_row(result: dict) -> dict:
    """A scored article's summary: id, title/date/source when given, counts, threat."""
    keep = {k: v for k, v in result.items() if k not in ("sentences", "summary", "text")}
    return {**keep, **result["summary"]}


def by_threat(results: Iterable[dict]) -> list[dict]:
    """Most threatening first; ties keep input order."""
    return sorted(results, key=lambda r: -r["summary"]["threat_score"])


def _sentence_html(sentence: dict) -> str:
    label, scores = sentence["label"], sentence["scores"]
    # A winning label's probability lies in [1/3, 1]: spread that over the opacity range.
    floor = 1 / len(LABELS)
    strength = max(0.0, (sentence["score"] - floor) / (1 - floor))
    alpha = round(0.08 + strength * (MAX_ALPHA[label] - 0.08), 3)
    title = " · ".join([*(f"{name} {scores[name]:.2f}" for name in LABELS),
                        *(FLAG_NOTES[flag] for flag in sentence.get("flags", ()))])
    data = json.dumps({name: round(scores[name], 4) for name in LABELS})
    return (f'<span class="sent {label}" data-label="{label}" data-scores="{escape(data)}" '
            f'title="{escape(title)}" style="--a:{alpha}">{escape(sentence["text"])}</span>')


def _text_html(text: str, sentences: list[dict]) -> str:
    """The article's own text, each sentence wrapped, whatever lies between kept."""
    parts, position = [], 0
    for sentence in sentences:
        parts.append(escape(text[position:sentence["start"]]))
        parts.append(_sentence_html(sentence))
        position = sentence["end"]
    parts.append(escape(text[position:]))
    return "".join(parts)


def _anchor(rank: int) -> str:
    return f"article-{rank}"


def _name(result: dict) -> str:
    return str(result.get("title") or result["article_id"])


def _summary_table(ranked: list[dict]) -> str:
    # Date and source columns only when some article has them (JSON Lines input).
    extra = [k for k in ("date", "source") if any(k in r for r in ranked)]
    head = ("<tr><th class=num>#</th><th>Article</th>"
            + "".join(f"<th>{k.capitalize()}</th>" for k in extra)
            + "<th class=num>Sentences</th>"
            + "".join(f"<th class=num>{label.capitalize()}</th>" for label in LABELS)
            + "<th>Threat score</th></tr>")
    rows = []
    for rank, result in enumerate(ranked, 1):
        summary = result["summary"]
        threat = summary["threat_score"]
        rows.append(
            f"<tr><td class=num>{rank}</td>"
            f'<td><a href="#{_anchor(rank)}">{escape(_name(result))}</a></td>'
            + "".join(f"<td class={k}>{escape(str(result.get(k, '')))}</td>" for k in extra)
            + f"<td class=num>{summary['n_sentences']}</td>"
            + "".join(f"<td class=num>{summary['counts'][label]}</td>" for label in LABELS)
            + f'<td class=num>{threat:.2f}<span class="bar" style="width:{threat * 5:.2f}rem">'
            f"</span></td></tr>")
    return f"<table class=summary>{head}{''.join(rows)}</table>"


def _article_html(rank: int, result: dict) -> str:
    summary = result["summary"]
    meta = [f"id {result['article_id']}",
            *(str(result[k]) for k in ("date", "source") if k in result),
            f"{summary['n_sentences']} sentences", f"threat score {summary['threat_score']:.2f}",
            *(FLAG_NOTES[flag] for flag in result.get("flags", ()))]
    return (f'<section class="article" id="{_anchor(rank)}">'
            f"<h2>{escape(_name(result))}</h2>"
            f'<div class="meta">{escape(" · ".join(meta))}</div>'
            f'<div class="text">{_text_html(result["text"], result["sentences"])}</div>'
            "</section>")


def _legend() -> str:
    buttons = "".join(
        f'<button type="button" data-label="{label}" aria-pressed="true" '
        f'title="{escape(DESCRIPTIONS[label])}"><span class="swatch {label}"></span>'
        f"{label}</button>"
        for label in LABELS)
    return (f'<div class="legend">{buttons}<span class="info">Stronger colour: a more '
            "confident label. Hover over a sentence for its scores; click a label to "
            "switch its colour off.</span></div>")


def write_html(path: Path, results: list[dict], errors: list[ArticleError],
               info: dict[str, str], articles: list[dict] | None = None) -> None:
    """``report.html``: the threat score over time and by source (when the articles
    carry dates and sources), a table of articles ranked by threat score, then each
    article's text in that order with every sentence highlighted. Each result needs the
    article's ``text`` besides its scores. The charts show ``articles`` (rows as in
    ``articles.jsonl``; default: the results), which may be more than the results shown
    in full; a chart point links to its article when it is shown."""
    ranked = by_threat(results)
    anchors = {r["article_id"]: _anchor(rank) for rank, r in enumerate(ranked, 1)}
    articles = articles if articles is not None else [article_row(r) for r in results]
    charts = charts_html(articles, link=lambda row: f"#{anchors[row['article_id']]}"
                         if row["article_id"] in anchors else None)
    # the counts cover every article, also those the page leaves out
    n_sentences = sum(row["n_sentences"] for row in articles)
    facts = [f"{len(articles)} articles", f"{n_sentences} sentences",
             *(f"{k}: {v}" for k, v in info.items())]
    error_list = ""
    if errors:
        facts.insert(1, f"{len(errors)} inputs failed")
        items = "".join(f"<li>{escape(str(e))}</li>" for e in errors)
        error_list = f'<h2>Inputs that failed</h2><ul class="errors">{items}</ul>'
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>stancewatch report</title><style>{_STYLE}{_label_style()}</style></head>"
        f"<body><h1>stancewatch report</h1>"
        f'<div class="info">{escape(" · ".join(facts))}</div>{charts}'
        f"{_legend()}{_summary_table(ranked)}{error_list}"
        + "".join(_article_html(rank, result) for rank, result in enumerate(ranked, 1))
        + f"<script>{_SCRIPT}</script></body></html>\n")
    path.write_text(page, encoding="utf-8")
