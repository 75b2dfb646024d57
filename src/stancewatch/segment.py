"""Sentence splitting that keeps character offsets into the original text.

syntok does the sentence work (abbreviations, quotes, ellipses, numbers); this module
decides where line breaks are hard boundaries, because news text arrives either one
paragraph per line or hard-wrapped (PDF extracts), with salutations, list items and
Markdown headings that carry no sentence-final punctuation, and it mends two syntok
splits that wire copy hits often (titles it does not know, datelines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syntok import segmenter

_TERMINAL = tuple(".!?:;\"'”’)]*")
_LIST_OR_HEADING = re.compile(r"\s*(#{1,6}\s|[-*•–]\s|\d{1,2}[.)]\s)")
_EMPHASIS_LINE = re.compile(r"\s*(\*\*|__).+(\*\*|__)\s*$")
# "Mr. President," or "**Excellencies,**": a short line ending in a comma.
_SALUTATION = re.compile(r"\s*\**[A-Z][^!?]{0,60},\**\s*$")
_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=[\w.,!?”\"])[*_](?!\w)")
_SPACE = re.compile(r"\s+")
# Titles that syntok does not list as abbreviations; they always precede a name.
_TITLE_END = re.compile(r"\b(Amb|Atty|Cmdr|Cpl|Det|Gov|Govs|Hon|Insp|Lt|Maj|Messrs|Pres|Pvt|"
                        r"Rep|Reps|Rev|Sens|Sgt|Supt)\.$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_DASH_START = re.compile(r"[-–—]\s")


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == article[start:end]``."""

    index: int
    start: int
    end: int
    text: str


def model_text(sentence: str) -> str:
    """The string a model sees: Markdown emphasis removed and whitespace folded."""
    return _SPACE.sub(" ", _MARKUP.sub("", sentence)).strip()


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        spans.append((pos, pos + len(body)))
        pos += len(line)
    return spans


def _own_line(line: str) -> bool:
    """List items, headings and whole-line emphasis never share a block with a neighbour."""
    return bool(_LIST_OR_HEADING.match(line) or _EMPHASIS_LINE.match(line))


def _salutation(line: str) -> bool:
    return bool(_SALUTATION.match(line)) and len(line.split()) <= 6


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of text between hard line boundaries."""
    filled = [(s, e) for s, e in _lines(text) if text[s:e].strip()]
    prose = [text[s:e].rstrip() for s, e in filled[:-1] if not _own_line(text[s:e])]
    # Paragraph-per-line text (most news) breaks at every newline; hard-wrapped text
    # (most lines end mid-sentence) only at blank lines and standalone lines.
    per_line = sum(line.endswith(_TERMINAL) for line in prose) >= 0.5 * len(prose)
    blocks: list[list[int]] = []
    previous = ""
    previous_standalone = blank = True
    for s, e in _lines(text):
        line = text[s:e]
        if not line.strip():
            blank = True
            continue
        # A salutation opens a paragraph or follows another ("Mr. President,\nExcellencies,").
        standalone = _own_line(line) or (
            (blank or (previous_standalone and blocks != [])) and _salutation(line))
        # A lowercase line after one without final punctuation continues its sentence,
        # even across a blank line (a PDF page break) or in paragraph-per-line text.
        continues = line.lstrip()[:1].islower() and not previous.rstrip().endswith(_TERMINAL)
        hard = (not blocks or previous_standalone or standalone
                or (not continues and (per_line or blank)))
        if hard:
            blocks.append([s, e])
        else:
            blocks[-1][1] = e
        previous, previous_standalone, blank = line, standalone, False
    return [(s, e) for s, e in blocks]


def _mend(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Undo syntok splits after a title ("Gov. | Hale") and after a dateline
    ("WASHINGTON (Reuters) | - The ...")."""
    mended: list[tuple[int, int]] = []
    for start, end in spans:
        if mended:
            before = text[mended[-1][0]:mended[-1][1]].rstrip()
            piece = text[start:end].lstrip()
            if ((_TITLE_END.search(before) and piece[:1].isupper())
                    or (_DASH_START.match(piece) and not _SENTENCE_END.search(before))):
                mended[-1] = (mended[-1][0], end)
                continue
        mended.append((start, end))
    return mended


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences whose offsets index into ``text`` itself."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        # syntok treats blank lines as paragraph ends; _blocks already decided which
        # line breaks are boundaries, so the rest become spaces (offsets unchanged).
        block = re.sub(r"[\r\n]", " ", text[block_start:block_end])
        pieces = [(block_start + tokens[0].offset,
                   block_start + tokens[-1].offset + len(tokens[-1].value))
                  for paragraph in segmenter.analyze(block) for tokens in paragraph]
        spans.extend(_mend(pieces, text))
    sentences = []
    for start, end in spans:
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        start, end = start + lead, start + len(piece.rstrip())
        if start < end:
            sentences.append(Sentence(len(sentences), start, end, text[start:end]))
    return sentences
