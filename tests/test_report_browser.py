"""report.html as a browser sees it: headless Chromium loads the file and dumps the DOM."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from stancewatch import StanceClassifier
from stancewatch.baselines import KeywordRules
from stancewatch.report import by_threat, write_outputs

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


def test_dom_has_one_sent_element_per_sentence(tmp_path):
    classifier = StanceClassifier(KeywordRules(), {"kind": KeywordRules.kind})
    results = [{**result, "text": article["text"]}
               for article, result in zip(ARTICLES, classifier.score_articles(ARTICLES),
                                          strict=True)]
    report = write_outputs(tmp_path / "out", results, [])
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         report.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    parser = _Sentences()
    parser.feed(done.stdout)
    expected = [[s["label"] for s in r["sentences"]] for r in by_threat(results)]
    assert parser.per_article == expected
    assert sum(map(len, expected)) == 7, "a literal <span class=\"sent\"> in the text stays text"
