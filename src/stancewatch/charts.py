"""Charts for the report, as inline SVG and HTML: the threat score over time and a
per-source summary. Pure functions of the article rows (what ``articles.jsonl`` holds:
``article_id``, ``threat_score``, ``n_sentences``, ``counts``, and ``title``, ``date``,
``source`` when given), so the report can be built from rows in memory or on disk.

Dates. Read are ISO 8601 dates with or without a time (``2024-05-03``,
``2024-05-03T14:30Z``), RFC 2822 dates as in RSS feeds (``Fri, 03 May 2024 14:30:00
GMT``) and dates with the month in words (``3 May 2024``, ``May 3, 2024``). Times with a
zone are converted to UTC; times without one are taken as they are. A year or a month
alone (``2024``, ``2024-05``) is not plotted rather than pinned to an invented day, nor
is an all-numeric date other than ISO (``05/03/2024``: day and month could be either
way round) or anything else unreadable; the chart says how many it left out and why.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import escape

from .labels import COLOURS

# Rolling-median windows, in days: the widest that fits six times into the span.
WINDOWS = (1, 7, 30, 91, 365)
# Point colours per source (none of them the hostile red or conditional orange); sources
# beyond the palette share OTHER.
PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
OTHER = "#7f7f7f"
NO_SOURCE = "(no source)"
MAX_TICKS = 8
# Sources listed in the table before the rest fold away under "more sources".
SHOWN_SOURCES = 15
_PARTIAL = re.compile(r"\d{4}(-\d{1,2})?")
_NUMERIC = re.compile(r"\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}")
_WORDED = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")
# Plot area inside the SVG (user units; the SVG scales to the page width).
_W, _H = 900, 280
_LEFT, _RIGHT, _TOP, _BOTTOM = 46, 14, 12, 34


def parse_date(value: object) -> tuple[datetime | None, str | None]:
    """``(datetime, None)`` for a readable date, else ``(None, why)`` with ``why`` one of
    ``missing``, ``partial`` (a year or month alone) or ``unreadable``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "missing"
    text = str(value).strip()
    if _PARTIAL.fullmatch(text):
        return None, "partial"
    parsed = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if not _NUMERIC.fullmatch(text):
            parsed = _rfc2822(text) or _worded(text)
    if parsed is None:
        return None, "unreadable"
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed, None


def _rfc2822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _worded(text: str) -> datetime | None:
    for pattern in _WORDED:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _source(row: dict) -> str | None:
    if row.get("source") is None:
        return None
    return str(row["source"]).strip() or None


def rolling_median(times: list[datetime], values: list[float],
                   window: timedelta) -> list[float]:
    """Per point (``times`` sorted), the median of the values from ``window`` before its
    time up to and including its time (so points at the same time share one median)."""
    return [statistics.median(values[bisect_right(times, t - window):bisect_right(times, t)])
            for t in times]


def _window(span: timedelta) -> int:
    fitting = [days for days in WINDOWS if days * 6 <= span.days]
    return fitting[-1] if fitting else WINDOWS[0]


def _ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Calendar ticks between ``start`` and ``end``: days, weeks, months or years."""
    span_days = max((end - start).days, 1)
    for step in (1, 2, 7, 14):
        if span_days / step <= MAX_TICKS:
            day = datetime(start.year, start.month, start.day) + timedelta(days=1)
            ticks = []
            while day <= end:
                new_year = not ticks or ticks[-1][0].year != day.year
                ticks.append((day, f"{day.day} {day:%b}" + (f" {day.year}" if new_year else "")))
                day += timedelta(days=step)
            return ticks
    for months in (1, 3, 6, 12, 24, 60, 120):
        if span_days / (30.44 * months) <= MAX_TICKS:
            break
    ticks, year, month = [], start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        day = datetime(year, month, 1)
        if day > end:
            return ticks
        index = year * 12 + month - 1
        if index % months == 0:
            label = f"{year}" if months >= 12 else f"{day:%b} {year}"
            ticks.append((day, label))


def _colours(sources: list[str | None]) -> dict[str | None, str]:
    """One colour per source, the most frequent first; the rest share OTHER."""
    ranked = [s for s, _ in Counter(sources).most_common()]
    if len(ranked) > len(PALETTE):
        return {s: PALETTE[i] if i < len(PALETTE) - 1 else OTHER for i, s in enumerate(ranked)}
    return {s: PALETTE[i] for i, s in enumerate(ranked)}


def _skipped_note(reasons: Counter, examples: dict[str, str]) -> str:
    words = {"missing": "without a date", "partial": "with only a year or month",
             "unreadable": "with a date that could not be read"}
    parts = []
    for reason in ("missing", "partial", "unreadable"):
        if reasons[reason]:
            example = f" (e.g. “{examples[reason]}”)" if reason in examples else ""
            n = reasons[reason]
            parts.append(f"{n} article{'s' if n > 1 else ''} {words[reason]}{example}")
    return "Not plotted: " + "; ".join(parts) + "." if parts else ""


def timeline_svg(rows: Iterable[dict], link: Callable[[dict], str | None] | None = None
                 ) -> str | None:
    """Threat score over time: one point per dated article (coloured by source when
    articles have one) and a rolling median line, as an HTML fragment with an inline SVG;
    ``link(row)`` gives a point's link target. None when fewer than two articles carry a
    readable date (see the module docstring for what is read)."""
    rows = list(rows)
    points, reasons, examples = [], Counter(), {}
    for row in rows:
        when, why = parse_date(row.get("date"))
        if when is None:
            reasons[why] += 1
            if why != "missing":
                examples.setdefault(why, str(row["date"])[:40])
        else:
            points.append((when, row))
    if len(points) < 2:
        return None
    points.sort(key=lambda p: p[0])
    times = [t for t, _ in points]
    scores = [float(r["threat_score"]) for _, r in points]
    start, end = times[0], times[-1]
    window = _window(end - start)
    medians = rolling_median(times, scores, timedelta(days=window))
    pad = max((end - start) * 0.02, timedelta(hours=12))
    x0, x1 = start - pad, end + pad
    width, height = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(t: datetime) -> float:
        return _LEFT + width * ((t - x0) / (x1 - x0))

    def y(v: float) -> float:
        return _TOP + height * (1 - v)

    # Smaller, fainter points as they crowd, so the line stays visible.
    radius, opacity = (5, 0.8) if len(points) <= 200 else (3, 0.6) if len(points) <= 1000 \
        else (2, 0.45)
    by_source = any(_source(r) for _, r in points)
    colours = _colours([_source(r) for _, r in points]) if by_source else {}
    parts = [f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
             f'aria-label="Threat score of {len(points)} articles over time">']
    for v in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(v):.1f}" '
                     f'y2="{y(v):.1f}"/><text class="axis" x="{_LEFT - 6}" y="{y(v) + 4:.1f}" '
                     f'text-anchor="end">{v:g}</text>')
    for tick, label in _ticks(x0, x1):
        parts.append(f'<line class="tick" x1="{x(tick):.1f}" x2="{x(tick):.1f}" '
                     f'y1="{_TOP + height}" y2="{_TOP + height + 5}"/>'
                     f'<text class="axis" x="{x(tick):.1f}" y="{_H - _BOTTOM + 20}" '
                     f'text-anchor="middle">{escape(label)}</text>')
    for (when, row), score in zip(points, scores, strict=True):
        source = _source(row)
        tip = " · ".join(str(v) for v in (row.get("title") or row["article_id"], source,
                                          row.get("date"), f"threat {score:.2f}") if v)
        dot = (f'<circle cx="{x(when):.1f}" cy="{y(score):.1f}" r="{radius}" '
               f'fill="{colours.get(source, PALETTE[0])}" fill-opacity="{opacity}">'
               f"<title>{escape(tip)}</title></circle>")
        target = link(row) if link else None
        parts.append(f'<a href="{escape(target)}">{dot}</a>' if target else dot)
    line = " ".join(f"{x(t):.1f},{y(m):.1f}" for t, m in zip(times, medians, strict=True))
    parts.append(f'<polyline class="median" points="{line}"/></svg>')
    days = "day" if window == 1 else f"{window} days"
    legend = [f'<span><svg width="22" height="10"><line class="median" x1="0" x2="22" y1="5" '
              f'y2="5"/></svg> {window}-day rolling median (of the articles in the {days} '
              "up to each point)</span>"]
    legend += [f'<span><svg width="10" height="10"><circle cx="5" cy="5" r="4" fill="{c}"/>'
               f"</svg> {escape(s or NO_SOURCE)}</span>"
               for s, c in colours.items() if c != OTHER]
    if OTHER in colours.values():
        legend.append(f'<span><svg width="10" height="10"><circle cx="5" cy="5" r="4" '
                      f'fill="{OTHER}"/></svg> other sources</span>')
    note = _skipped_note(reasons, examples)
    return (f'<section class="charts" id="timeline"><h2>Threat score over time</h2>'
            f'<div class="info">{len(points)} dated articles, '
            f"{start:%Y-%m-%d} to {end:%Y-%m-%d}; hover a point for the article, "
            f'click it to read it.</div>{"".join(parts)}'
            f'<div class="chart-legend">{"".join(legend)}</div>'
            + (f'<div class="info">{escape(note)}</div>' if note else "") + "</section>")


def source_summary(rows: Iterable[dict]) -> list[dict]:
    """Per source (articles without one under ``(no source)``, last): articles,
    sentences, mean threat score and the shares of hostile and conditional sentences;
    the sources with most articles first (ties: higher mean threat first). Empty when no
    article has a source."""
    rows = list(rows)
    if not any(_source(r) for r in rows):
        return []
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[_source(row) or NO_SOURCE].append(row)
    summary = []
    for source, members in groups.items():
        sentences = sum(r["n_sentences"] for r in members)
        shares = {label: sum(r["counts"][label] for r in members) / sentences if sentences
                  else 0.0 for label in ("hostile", "conditional")}
        summary.append({"source": source, "articles": len(members), "sentences": sentences,
                        "mean_threat": statistics.fmean(r["threat_score"] for r in members),
                        **{f"{label}_share": share for label, share in shares.items()}})
    return sorted(summary, key=lambda s: (s["source"] == NO_SOURCE, -s["articles"],
                                          -s["mean_threat"]))


def _share_bar(hostile: float, conditional: float) -> str:
    def fill(label: str) -> str:
        return "rgb({},{},{})".format(*COLOURS[label])

    return (f'<svg class="mix" width="120" height="10" viewBox="0 0 120 10">'
            f'<rect width="120" height="10" fill="#e5e5e5"/>'
            f'<rect width="{120 * hostile:.1f}" height="10" fill="{fill("hostile")}"/>'
            f'<rect x="{120 * hostile:.1f}" width="{120 * conditional:.1f}" height="10" '
            f'fill="{fill("conditional")}"/></svg>')


def _source_rows(summary: list[dict]) -> str:
    return "".join(
        f"<tr><td>{escape(s['source'])}</td><td class=num>{s['articles']}</td>"
        f"<td class=num>{s['sentences']}</td>"
        f"<td class=num>{s['mean_threat']:.2f}"
        f'<span class="bar" style="width:{s["mean_threat"] * 5:.2f}rem"></span></td>'
        f"<td class=num>{s['hostile_share']:.0%}</td>"
        f"<td class=num>{s['conditional_share']:.0%}</td>"
        f"<td>{_share_bar(s['hostile_share'], s['conditional_share'])}</td></tr>"
        for s in summary)


def source_table(rows: Iterable[dict]) -> str | None:
    """The per-source summary as an HTML section (sources beyond the first
    ``SHOWN_SOURCES`` folded away), or None when no article has a source."""
    summary = source_summary(rows)
    if not summary:
        return None
    head = ("<tr><th>Source</th><th class=num>Articles</th><th class=num>Sentences</th>"
            "<th>Mean threat score</th><th class=num>Hostile</th>"
            "<th class=num>Conditional</th><th>Sentence mix</th></tr>")
    shown, rest = summary[:SHOWN_SOURCES], summary[SHOWN_SOURCES:]
    more = (f"<details><summary>{len(rest)} more sources</summary><table class=sources>"
            f"{head}{_source_rows(rest)}</table></details>" if rest else "")
    return ('<section class="charts" id="sources"><h2>By source</h2>'
            '<div class="info">Per source: its articles\' mean threat score, and the share of '
            "its sentences labelled hostile and conditional (bar: hostile, conditional, "
            "neutral).</div>"
            f"<table class=sources>{head}{_source_rows(shown)}</table>{more}</section>")


def charts_html(rows: Iterable[dict], link: Callable[[dict], str | None] | None = None) -> str:
    """Every chart the rows support, in report order ("" when none does)."""
    rows = list(rows)
    return "".join(part for part in (timeline_svg(rows, link), source_table(rows)) if part)
