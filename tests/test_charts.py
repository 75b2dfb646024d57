"""Report charts from article rows: dates read (or not, and why), the rolling median, the
per-source summary, and the report with and without them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from stancewatch import StanceClassifier
from stancewatch.baselines import KeywordRules
from stancewatch.charts import (
    NO_SOURCE,
    SHOWN_SOURCES,
    parse_date,
    rolling_median,
    source_summary,
    source_table,
    timeline_svg,
)
from stancewatch.report import write_html


def row(article_id: str, threat: float, date: str | None = None, source: str | None = None,
        hostile: int = 0, conditional: int = 0, neutral: int = 4) -> dict:
    """An article row as ``articles.jsonl`` holds it."""
    extra = {k: v for k, v in (("date", date), ("source", source)) if v is not None}
    return {"article_id": article_id, "title": f"Title {article_id}", **extra,
            "n_sentences": hostile + conditional + neutral,
            "counts": {"hostile": hostile, "conditional": conditional, "neutral": neutral},
            "threat_score": threat, "top_threats": []}


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-02-03", datetime(2026, 2, 3)),
    ("2026-02-03T14:30:00", datetime(2026, 2, 3, 14, 30)),
    ("2026-02-03T14:30+02:00", datetime(2026, 2, 3, 12, 30)),
    ("2026-02-03T23:30Z", datetime(2026, 2, 3, 23, 30)),
    ("Tue, 03 Feb 2026 14:30:00 GMT", datetime(2026, 2, 3, 14, 30)),
    ("3 February 2026", datetime(2026, 2, 3)),
    ("Feb 3, 2026", datetime(2026, 2, 3)),
    (" 2026-02-03 ", datetime(2026, 2, 3)),
])
def test_readable_dates(value, expected):
    assert parse_date(value) == (expected, None)


@pytest.mark.parametrize(("value", "why"), [
    (None, "missing"), ("", "missing"), ("   ", "missing"),
    ("2026", "partial"), ("2026-02", "partial"),
    ("03/02/2026", "unreadable"), ("2026-13-01", "unreadable"),
    ("last Tuesday", "unreadable"), ("31 February 2026", "unreadable"),
])
def test_unusable_dates_say_why(value, why):
    assert parse_date(value) == (None, why)


def test_rolling_median_covers_the_window_up_to_each_point():
    day = datetime(2026, 1, 1)
    times = [day, day + timedelta(days=1), day + timedelta(days=1), day + timedelta(days=3),
             day + timedelta(days=20)]
    values = [0.1, 0.9, 0.5, 0.3, 0.8]
    assert rolling_median(times, values, timedelta(days=7)) == [
        0.1, 0.5, 0.5, 0.4, 0.8]  # points of one day share a median; day 20 stands alone


def test_timeline_plots_dated_articles_and_says_what_it_left_out():
    rows = [row("a", 0.2, "2026-02-03", "Wire"), row("b", 0.9, "2026-03-01", "Herald"),
            row("c", 0.5, "2026-03-20T08:00Z", "Wire"), row("d", 0.4, None, "Wire"),
            row("e", 0.7, "2026-02", "Herald"), row("f", 0.6, "soon", "Herald")]
    html = timeline_svg(rows, link=lambda r: f"#{r['article_id']}")
    assert html is not None
    hrefs = re.findall(r'<a href="#(\w)"><circle', html)
    assert hrefs == ["a", "b", "c"], "one point per dated article, in time order"
    assert "3 dated articles, 2026-02-03 to 2026-03-20" in html
    assert ("Not plotted: 1 article without a date; 1 article with only a year or month "
            "(e.g. “2026-02”); 1 article with a date that could not be read (e.g. “soon”).") in html
    assert "7-day rolling median" in html, "the widest window that fits 6 times in 45 days"
    assert "Wire" in html and "Herald" in html, "sources in the legend"
    cy = [float(v) for v in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', html)]
    assert cy[1] < cy[2] < cy[0], "a higher threat score is drawn higher"


def test_timeline_is_absent_without_two_dated_articles():
    assert timeline_svg([row("a", 0.2), row("b", 0.3)]) is None
    assert timeline_svg([row("a", 0.2, "2026-02-03"), row("b", 0.3, "2026")]) is None
    assert timeline_svg([row("a", 0.2, "2026-02-03"), row("b", 0.3, "2026-02-03")]) is not None


def test_source_summary_counts_articles_threat_and_shares():
    rows = [row("a", 0.8, source="Wire", hostile=2, conditional=1, neutral=1),
            row("b", 0.4, source="Wire", hostile=0, conditional=1, neutral=3),
            row("c", 0.9, source=" Herald ", hostile=3, conditional=0, neutral=1),
            row("d", 0.1, hostile=0, conditional=0, neutral=5)]
    summary = source_summary(rows)
    assert [s["source"] for s in summary] == ["Wire", "Herald", NO_SOURCE]
    wire = summary[0]
    assert (wire["articles"], wire["sentences"]) == (2, 8)
    assert wire["mean_threat"] == pytest.approx(0.6)
    assert wire["hostile_share"] == pytest.approx(2 / 8)
    assert wire["conditional_share"] == pytest.approx(2 / 8)
    assert summary[2]["hostile_share"] == 0.0


def test_source_table_is_absent_without_sources_and_folds_long_lists():
    assert source_summary([row("a", 0.5), row("b", 0.5, source="  ")]) == []
    assert source_table([row("a", 0.5)]) is None
    rows = [row(f"a{i}", 0.5, source=f"Outlet {i:02d}") for i in range(SHOWN_SOURCES + 3)]
    html = source_table(rows)
    assert html.count("<tr>") == SHOWN_SOURCES + 1 + 3 + 1  # two headers
    assert "3 more sources" in html


def test_report_has_charts_only_when_articles_carry_dates_and_sources(tmp_path):
    classifier = StanceClassifier(KeywordRules(), {"kind": KeywordRules.kind})
    articles = [
        {"id": "x", "text": "Norland condemned the drills. Talks resume on Monday.",
         "date": "2026-02-03", "source": "Wire"},
        {"id": "y", "text": "If Sudria sends troops, Norland will respond.",
         "date": "2026-02-09", "source": "Herald"},
    ]

    def report(batch: list[dict], name: str) -> str:
        results = [{**r, "text": a["text"]}
                   for a, r in zip(batch, classifier.score_articles(batch), strict=True)]
        write_html(tmp_path / f"{name}.html", results, [], {})
        return (tmp_path / f"{name}.html").read_text(encoding="utf-8")

    plain = report([{"id": a["id"], "text": a["text"]} for a in articles], "plain")
    assert "<svg class=\"chart\"" not in plain and "By source" not in plain
    assert "Threat score over time" not in plain
    dated = report(articles, "dated")
    assert "Threat score over time" in dated and "By source" in dated
    anchors = re.findall(r'id="(article-\d)"', dated)
    assert sorted(re.findall(r'<a href="#(article-\d)"><circle', dated)) == sorted(anchors)
