"""report.html as a browser sees it: headless Chromium loads the file, dumps the DOM and
takes a screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from stancewatch import StanceClassifier
from stancewatch.articles import ArticleError
from stancewatch.baselines import KeywordRules
from stancewatch.charts import PALETTE
from stancewatch.labels import COLOURS
from stancewatch.report import by_threat, write_html

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH (`make browser` installs Debian's)")

ARTICLES = [
    {"id": "border", "title": "Border <warning> & threats",
     "text": "OSTBURG, March 3 — Norland warned Sudria against holding drills. \"If the drills "
             "go ahead, we will respond,\" Mr. Hale said.\n\nThe talks resume on Monday."},
    {"id": "markup", "text": 'A sentence quoting <span class="sent">markup</span> & more. '
                             "Officials condemned the blockade as a crime.\n- one item\n"
                             "- another item"},
]


class _Sentences(HTMLParser):
    """Elements whose class list holds ``sent``, grouped by article section."""

    def __init__(self) -> None:
        super().__init__()
        self.per_article: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "section" and "article" in classes:
            self.per_article.append([])
        elif "sent" in classes:
            self.per_article[-1].append(attributes.get("data-label"))


def _report(articles: list[dict], out: Path) -> tuple[Path, list[dict]]:
    classifier = StanceClassifier(KeywordRules(), {"kind": KeywordRules.kind})
    results = [{**result, "text": article["text"]}
               for article, result in zip(articles, classifier.score_articles(articles),
                                          strict=True)]
    out.mkdir(parents=True, exist_ok=True)
    write_html(out / "report.html", results, [], {})
    return out / "report.html", results


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_dom_has_one_sent_element_per_sentence(tmp_path):
    report, results = _report(ARTICLES, tmp_path / "out")
    done = _chromium(tmp_path, "--dump-dom", report.resolve().as_uri())
    parser = _Sentences()
    parser.feed(done.stdout)
    expected = [[s["label"] for s in r["sentences"]] for r in by_threat(results)]
    assert parser.per_article == expected
    assert sum(map(len, expected)) == 7, "a literal <span class=\"sent\"> in the text stays text"


def _pixels_near(pixels: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> int:
    return int((np.abs(pixels.astype(int) - np.array(colour)) <= tolerance).all(-1).sum())


def test_charts_render_for_the_dated_example(tmp_path):
    """The committed example with dates and sources: the chart and the source table are
    in the page Chromium builds, and their colours are on the screenshot."""
    from PIL import Image

    path = ROOT / "examples" / "elva_dam_dispute.jsonl"
    articles = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    report, _ = _report(articles, tmp_path / "out")
    dom = _chromium(tmp_path, "--dump-dom", report.resolve().as_uri()).stdout
    dated = sum(1 for a in articles if re.fullmatch(r"\d{4}-\d{2}-\d{2}", a.get("date", "")))
    assert dom.count("<circle ") == dated + len({a["source"] for a in articles}), \
        "a point per dated article and a legend dot per source"
    median = re.search(r'<polyline class="median" points="([^"]+)"', dom)
    assert median and len(median[1].split()) == dated
    assert "Not plotted: 1 article without a date; 1 article with only a year or month" in dom
    shot = tmp_path / "report.png"
    _chromium(tmp_path, "--hide-scrollbars", "--window-size=1000,1300",
              f"--screenshot={shot}", report.resolve().as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (1000, 1300)
    pixels = np.asarray(image)
    sources = len({a["source"] for a in articles})
    for colour in PALETTE[:sources]:
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert _pixels_near(pixels, rgb) >= 20, f"source colour {colour} not drawn"
    assert _pixels_near(pixels, COLOURS["hostile"]) >= 200, "hostile bars not drawn"


# Each would mark <body> with data-ran if it ran: a script element, event handlers on
# injected elements, quotes that break out of an attribute, and tags that close the
# report's own elements first.
PAYLOADS = [
    '<script>document.body.setAttribute("data-ran", "script")</script>',
    "<img src=x onerror=\"document.body.setAttribute('data-ran', 'img')\">",
    "\" autofocus onfocus=\"document.body.setAttribute('data-ran', 'attr')\" x=\"",
    "' onmouseover='document.body.setAttribute(\"data-ran\", \"quote\")' x='",
    "<svg onload=\"document.body.setAttribute('data-ran', 'svg')\"></svg>",
    '</span></div></section></title><script>document.body.setAttribute("data-ran", '
    '"close")</script>',
]


class _Elements(HTMLParser):
    """Tags, event-handler attributes and the text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.body: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.handlers += [(tag, name) for name, _ in attrs if name.startswith("on")]
        if tag == "body":
            self.body = dict(attrs)

    def handle_data(self, data):
        self.text.append(data)


def _dom(tmp_path: Path, page: Path) -> _Elements:
    # Virtual time lets an image's onerror and an autofocus handler fire before the dump.
    parser = _Elements()
    parser.feed(_chromium(tmp_path, "--virtual-time-budget=3000", "--dump-dom",
                          page.resolve().as_uri()).stdout)
    return parser


def test_a_hostile_article_renders_as_text_and_runs_no_script(tmp_path):
    # The check can fail: unescaped, the same payloads run in this browser.
    raw = tmp_path / "raw.html"
    raw.write_text(f"<!DOCTYPE html><html><body>{''.join(PAYLOADS[:2])}<input value=\""
                   f"{PAYLOADS[2]}\"></body></html>", encoding="utf-8")
    assert _dom(tmp_path, raw).body.get("data-ran") in ("script", "img", "attr")

    articles = [{"id": payload, "title": payload, "source": payload, "date": "2025-03-0" +
                 str(number + 1), "text": f"Norland threatened the dam. {payload} The talks "
                 f"resume. If Sudria moves, {payload} relations will be ruined."}
                for number, payload in enumerate(PAYLOADS)]
    classifier = StanceClassifier(KeywordRules(), {"kind": KeywordRules.kind})
    results = [{**result, "text": article["text"]} for article, result in
               zip(articles, classifier.score_articles(articles), strict=True)]
    report = tmp_path / "report.html"
    write_html(report, results, [ArticleError(f"{PAYLOADS[0]}.txt", PAYLOADS[1], 3)],
               {"input": PAYLOADS[5]})
    dom = _dom(tmp_path, report)
    assert "data-ran" not in dom.body, f"a payload ran: {dom.body}"
    assert dom.handlers == [], "an injected element or attribute has an event handler"
    assert dom.tags.count("script") == 1, "only the report's own script"
    assert "img" not in dom.tags and "input" not in dom.tags
    text = "".join(dom.text)
    for payload in PAYLOADS:
        assert text.count(payload) >= 4, payload  # id, title, text (twice), as text
    assert f"{PAYLOADS[0]}.txt:3: {PAYLOADS[1]}" in text and PAYLOADS[5] in text
