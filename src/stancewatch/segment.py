"""Sentence splitting that keeps character offsets into the original text.

syntok does the sentence work (abbreviations, quotes, ellipses, numbers); this module
only decides where line breaks are hard boundaries, because news text arrives either
one paragraph per line or hard-wrapped (PDF extracts), with salutations, list items
and Markdown headings that carry no sentence-final punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from syntok import segmenter

_TERMINAL = tuple(".!?:;\"'”’)]*")
_LIST_OR_HEADING = re.compile(r"\s*(#{1,6}\s|[-*•–]\s|\d{1,2}[.)]\s)")
_EMPHASIS_LINE = re.compile(r"\s*(\*\*|__).+(\*\*|__)\s*$")
_SALUTATION = re.compile(r"\s*\**[A-Z][^.!?]{0,60},\**\s*$")
_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=[\w.,!?”\"])[*_](?!\w)")
_SPACE = re.compile(r"\s+")


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


def _standalone(line: str, previous_blank: bool) -> bool:
    if _LIST_OR_HEADING.match(line) or _EMPHASIS_LINE.match(line):
        return True
    return previous_blank and bool(_SALUTATION.match(line)) and len(line.split()) <= 6


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of text between hard line boundaries."""
    lines = [(s, e) for s, e in _lines(text)]
    filled = [(s, e) for s, e in lines if text[s:e].strip()]
    if not filled:
        return []
    prose = [
        text[s:e].rstrip()
        for s, e in filled[:-1]
        if not (_LIST_OR_HEADING.match(text[s:e]) or _EMPHASIS_LINE.match(text[s:e]))
    ]
    # Paragraph-per-line text (most news) breaks at every newline; hard-wrapped text
    # (most lines end mid-sentence) only at blank lines and standalone lines.
    per_line = sum(line.endswith(_TERMINAL) for line in prose) >= 0.5 * len(prose)
    blocks: list[tuple[int, int]] = []
    start = end = None
    previous_blank = True
    blank_since = False
    for s, e in lines:
        line = text[s:e]
        if not line.strip():
            blank_since = True
            previous_blank = True
            continue
        stripped = line.lstrip()
        hard = (
            start is None
            or per_line
            or _LIST_OR_HEADING.match(line) is not None
            or (blank_since and not stripped[:1].islower())
            or _standalone(text[prev_s:prev_e], prev_blank_before)
        )
        if hard and start is not None:
            blocks.append((start, end))
            start = None
        if start is None:
            start = s
        end = e
        prev_s, prev_e, prev_blank_before = s, e, previous_blank
        previous_blank = False
        blank_since = False
    blocks.append((start, end))
    return blocks


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` into sentences whose offsets index into ``text`` itself."""
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        # syntok treats blank lines as paragraph ends; _blocks already decided which
        # line breaks are boundaries, so the rest become spaces (offsets unchanged).
        block = re.sub(r"[\r\n]", " ", text[block_start:block_end])
        for paragraph in segmenter.analyze(block):
            for tokens in paragraph:
                start = block_start + tokens[0].offset
                end = block_start + tokens[-1].offset + len(tokens[-1].value)
                spans.append((start, end))
    sentences = []
    for start, end in spans:
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        start, end = start + lead, start + len(piece.rstrip())
        if start < end:
            sentences.append(Sentence(len(sentences), start, end, text[start:end]))
    return sentences
