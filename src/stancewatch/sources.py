"""Real text from ../shared, addressed by stable ids so that labels can be committed
without the text (the sources' licences forbid redistributing it).

Ids:
- UN General Debate: ``ungdc:<ISO3>:<start>-<end>``, character offsets into the speech file.
- UNSCon: ``unscon:<file id without its corpus prefix and .txt>:<sentence_char_offsets>``.
"""

from __future__ import annotations

import csv
import random
import re
from collections.abc import Iterator
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


def ungdc_by_id(root: str | Path, ids: set[str]) -> Iterator[dict]:
    """The sentences named by ``ids``, sliced straight from the files by their offsets, so
    that a change of sentence splitter never invalidates a label. The context is the
    splitter's sentence that ends before the labelled one starts."""
    wanted: dict[str, list[tuple[int, int, str]]] = {}
    for sentence_id in ids:
        if sentence_id.startswith("ungdc:"):
            code, span = sentence_id.split(":")[1:]
            start, end = map(int, span.split("-"))
            wanted.setdefault(code, []).append((start, end, sentence_id))
    for path in sorted(Path(root).glob("*.txt")):
        code = path.stem.split("_")[0]
        if code not in wanted:
            continue
        text = path.read_text(encoding="utf-8")
        sentences = split_sentences(text)
        for start, end, sentence_id in sorted(wanted[code]):
            before = [s for s in sentences if s.end <= start]
            yield {
                "id": sentence_id,
                "article_id": f"ungdc:{code}",
                "position": len(before),
                "text": text[start:end],
                "context": before[-1].text if before else None,
            }


def ungdc_sentences(root: str | Path) -> Iterator[dict]:
    """Every sentence of every speech in ``root``, with the previous one as context."""
    for path in sorted(Path(root).glob("*.txt")):
        code = path.stem.split("_")[0]
        text = path.read_text(encoding="utf-8")
        previous = None
        for sentence in split_sentences(text):
            yield {
                "id": f"ungdc:{code}:{sentence.start}-{sentence.end}",
                "article_id": f"ungdc:{code}",
                "position": sentence.index,
                "text": sentence.text,
                "context": previous,
            }
            previous = sentence.text


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


def draw_for_labelling(rows: list[dict], quotas: dict[str, int], rng: random.Random) -> list[dict]:
    """A stratified draw of sentences (four or more words) to label by hand.

    Conditionals are rare in speeches, so strata over-sample sentences with condition
    markers (``condition``) and hostile vocabulary (``hostile``); ``random`` is the rest.
    Each drawn row keeps its stratum in ``sampled_by``.
    """
    strata: dict[str, list[dict]] = {"condition": [], "hostile": [], "random": []}
    for row in rows:
        if len(row["text"].split()) < 4:
            continue
        if CONDITION_MARKERS.search(row["text"]):
            strata["condition"].append(row)
        elif HOSTILE_WORDS.search(row["text"]):
            strata["hostile"].append(row)
        else:
            strata["random"].append(row)
    return [{**row, "sampled_by": key}
            for key, n in quotas.items()
            for row in rng.sample(strata[key], min(n, len(strata[key])))]
