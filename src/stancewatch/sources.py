"""Real text from ../shared, addressed by stable ids so that labels can be committed
without the text (the sources' licences forbid redistributing it).

Ids:
- UN General Debate: ``ungdc:<ISO3>:<start>-<end>``, character offsets into the speech file.
- UNSCon: ``unscon:<file id without its corpus prefix and .txt>:<sentence_char_offsets>``.
- AllSides news: ``news:<article id>:<start>-<end>``, character offsets into the article's
  ``text``.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from .segment import split_sentences

_PREFIX = "UNSC_"
_DETOK = [
    (re.compile(r"\s+([.,;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{])\s+"), r"\1"),
    (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),
    (re.compile(r"(\w)\s+-\s+(\w)"), r"\1-\2"),
    (re.compile(r"\s{2,}"), " "),
]
_QUOTED = re.compile(r'"\s*([^"]*?)\s*"')


def detokenize(text: str) -> str:
    """Undo the corpus tokenisation ("Ukraine by force ." -> "Ukraine by force.")."""
    out = _QUOTED.sub(lambda m: f'"{m.group(1)}"', text.strip())
    for pattern, repl in _DETOK:
        out = pattern.sub(repl, out)
    return out.strip()


def _sentence_rows(prefix: str, doc: str, text: str) -> Iterator[dict]:
    """Every sentence of one document, id ``<prefix>:<doc>:<start>-<end>``, with the
    previous sentence as context."""
    previous = None
    for sentence in split_sentences(text):
        yield {
            "id": f"{prefix}:{doc}:{sentence.start}-{sentence.end}",
            "article_id": f"{prefix}:{doc}",
            "position": sentence.index,
            "text": sentence.text,
            "context": previous,
        }
        previous = sentence.text


def _rows_by_offsets(prefix: str, doc: str, text: str, spans: list[tuple[int, int]]
                     ) -> Iterator[dict]:
    """The sentences at ``spans`` (character offsets), sliced straight from ``text`` so
    that a change of sentence splitter never invalidates a label. The context is the
    splitter's sentence that ends before the labelled one starts."""
    sentences = split_sentences(text)
    for start, end in sorted(spans):
        before = [s for s in sentences if s.end <= start]
        yield {
            "id": f"{prefix}:{doc}:{start}-{end}",
            "article_id": f"{prefix}:{doc}",
            "position": len(before),
            "text": text[start:end],
            "context": before[-1].text if before else None,
        }


def _spans_by_doc(prefix: str, ids: set[str]) -> dict[str, list[tuple[int, int]]]:
    wanted: dict[str, list[tuple[int, int]]] = {}
    for sentence_id in ids:
        if sentence_id.startswith(f"{prefix}:"):
            doc, span = sentence_id[len(prefix) + 1:].rsplit(":", 1)
            start, end = map(int, span.split("-"))
            wanted.setdefault(doc, []).append((start, end))
    return wanted


def _speeches(root: str | Path) -> Iterator[tuple[str, str]]:
    for path in sorted(Path(root).glob("*.txt")):
        yield path.stem.split("_")[0], path.read_text(encoding="utf-8")


def ungdc_by_id(root: str | Path, ids: set[str]) -> Iterator[dict]:
    """The UN General Debate sentences named by ``ids`` (see :func:`_rows_by_offsets`)."""
    wanted = _spans_by_doc("ungdc", ids)
    for code, text in _speeches(root):
        if code in wanted:
            yield from _rows_by_offsets("ungdc", code, text, wanted[code])


def ungdc_sentences(root: str | Path) -> Iterator[dict]:
    """Every sentence of every speech in ``root``, with the previous one as context."""
    for code, text in _speeches(root):
        yield from _sentence_rows("ungdc", code, text)


def news_articles(path: str | Path) -> Iterator[dict]:
    """The AllSides news articles (``id``, ``text``, ``title``, ``date``, ``source``, ...)."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def news_by_id(path: str | Path, ids: set[str]) -> Iterator[dict]:
    """The news sentences named by ``ids`` (``news:<article id>:<start>-<end>``)."""
    wanted = _spans_by_doc("news", ids)
    for article in news_articles(path):
        if article["id"] in wanted:
            yield from _rows_by_offsets("news", article["id"], article["text"],
                                        wanted[article["id"]])


def news_sentences(path: str | Path) -> Iterator[dict]:
    """Every sentence of every news article, with the previous one as context."""
    for article in news_articles(path):
        yield from _sentence_rows("news", article["id"], article["text"])


def unscon_sentences(path: str | Path) -> Iterator[dict]:
    """Every UNSCon sentence, detokenised, with its source label.

    A speech comes as several excerpt files whose rows the CSV interleaves, and
    ``sentence_char_offsets`` count within an excerpt, so the excerpt is the article:
    positions and the previous-sentence context never cross excerpts.
    """
    position: dict[str, int] = {}
    previous: dict[str, str] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            excerpt = row["file_id"].removeprefix(_PREFIX).removesuffix(".txt")
            text = detokenize(row["sentence_text"])
            yield {
                "id": f"unscon:{excerpt}:{row['sentence_char_offsets']}",
                "article_id": f"unscon:{excerpt}",
                "position": position.get(excerpt, 0),
                "text": text,
                "context": previous.get(excerpt),
                "source_label": row["A0"],
            }
            position[excerpt] = position.get(excerpt, 0) + 1
            previous[excerpt] = text


CONDITION_MARKERS = re.compile(
    r"\b(if|unless|should|once|in case|provided that|as long as|otherwise|would)\b", re.I)
HOSTILE_WORDS = re.compile(
    r"\b(condemn\w*|aggress\w*|occup\w*|threat\w*|attack\w*|invasion|invad\w*|genocide|"
    r"terror\w*|sanction\w*|war crimes?|illegal\w*|violat\w*|annex\w*|provocat\w*|"
    r"hostil\w*|bomb\w*|kill\w*|massacre\w*|atrocit\w*|accuse\w*|blackmail\w*|coerc\w*)\b",
    re.I,
)


SPEECH_STRATA: dict[str, re.Pattern] = {"condition": CONDITION_MARKERS, "hostile": HOSTILE_WORDS}
# News strata, first match wins. ``threat_condition`` is where real conditionals live
# (about 1 news sentence in 200 is one): a threat word and a condition marker together,
# a condition with a consequence word, or "any ... would".
NEWS_STRATA: dict[str, re.Pattern] = {
    "threat_condition": re.compile(
        r"\b(threat\w*|warn\w*|vow\w*|pledg\w*|ultimatum|red lines?)\b.*"
        r"\b(if|unless|should|once|or else)\b"
        r"|\b(if|unless|should|once|or else)\b.*\b(threat\w*|warn\w*|vow\w*)\b"
        r"|\b(if|unless)\b.*\b(retaliat\w*|sanction\w*|tariffs?|war|attack\w*|strikes?|"
        r"respond\w*|consequences?|punish\w*|destroy\w*|military|force|cut off|withdraw\w*|"
        r"pull out|suspend\w*|veto\w*|shut\w* down|walk away|block\w*)\b"
        r"|\bany\b[^.]{0,80}\bwould\b|\bwould be (regarded|seen|considered|treated) as\b",
        re.I),
    "condition": CONDITION_MARKERS,
    "threat_verb": re.compile(
        r"\b(threat(en|ened|ening|ens)|warn(ed|s|ing)?|vow(ed|s|ing)?|ultimatum)\b", re.I),
    "hostile": HOSTILE_WORDS,
    "demand_refusal": re.compile(
        r"\b(demand\w*|urg(ed|es|ing)|calls? (on|for)|called (on|for)|must|refus\w*|"
        r"reject\w*|declin(ed|es|ing)|boycott\w*|protest\w*|strikes?)\b", re.I),
    "cooperative": re.compile(
        r"\b(visit\w*|talks|meet\w*|met|agree\w*|deal|treaty|sign(ed|s|ing)?|aid|assist\w*|"
        r"mediat\w*|support\w*|releas\w*|appoint\w*|cooperat\w*|welcom\w*|partner\w*|"
        r"summit|negotiat\w*)\b", re.I),
}


def draw_for_labelling(rows: list[dict], quotas: dict[str, int], rng: random.Random,
                       strata: dict[str, re.Pattern] = SPEECH_STRATA) -> list[dict]:
    """A stratified draw of sentences (four or more words) to label by hand.

    Conditionals are rare in real text, so ``strata`` (name -> pattern, the first match
    wins) over-sample sentences with condition markers, threat and hostile vocabulary;
    ``random`` is the rest. Each drawn row keeps its stratum in ``sampled_by``.
    """
    pools: dict[str, list[dict]] = {name: [] for name in [*strata, "random"]}
    for row in rows:
        if len(row["text"].split()) < 4:
            continue
        name = next((n for n, pattern in strata.items() if pattern.search(row["text"])),
                    "random")
        pools[name].append(row)
    return [{**row, "sampled_by": key}
            for key, n in quotas.items()
            for row in rng.sample(pools[key], min(n, len(pools[key])))]


def draw_whole_articles(rows: list[dict], counts: dict[str, int], split_of: Callable[[str], str],
                        rng: random.Random, sizes: tuple[int, int] = (12, 45)) -> list[dict]:
    """Every sentence of ``counts[split]`` articles per split, drawn at random among those
    with ``sizes`` (min, max) sentences, so that whole real articles can be labelled end
    to end. Rows keep ``sampled_by="whole_article"``."""
    by_article: dict[str, list[dict]] = {}
    for row in rows:
        by_article.setdefault(row["article_id"], []).append(row)
    drawn = []
    for split, n in counts.items():
        pool = sorted(a for a, sentences in by_article.items()
                      if sizes[0] <= len(sentences) <= sizes[1] and split_of(a) == split)
        for article_id in rng.sample(pool, min(n, len(pool))):
            drawn.extend({**row, "sampled_by": "whole_article"} for row in by_article[article_id])
    return drawn
