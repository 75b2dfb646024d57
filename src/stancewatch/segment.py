"""Sentence splitting that keeps character offsets into the original text.

syntok does the sentence work (abbreviations, quotes, ellipses, numbers); this module
decides where line breaks are hard boundaries, because news text arrives either one
paragraph per line or hard-wrapped (PDF extracts), with salutations, list items and
Markdown headings that carry no sentence-final punctuation, and it mends two syntok
splits that wire copy hits often (titles it does not know, datelines).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from syntok import segmenter

_LIST_OR_HEADING = re.compile(r"\s*(#{1,6}\s|[-*•–]\s|\d{1,2}[.)]\s)")
_EMPHASIS_LINE = re.compile(r"\s*(\*\*|__).+(\*\*|__)\s*$")
# "Mr. President," or "**Excellencies,**": a short line ending in a comma.
_SALUTATION = re.compile(r"\s*\**[A-Z][^!?]{0,60},\**\s*$")
_MARKUP = re.compile(r"\*\*|__|(?<!\w)[*_](?=\w)|(?<=[\w.,!?”\"])[*_](?!\w)")
_SPACE = re.compile(r"\s+")
# Titles that syntok does not list as abbreviations; they always precede a name.
_TITLE_END = re.compile(r"\b(Amb|Atty|Cmdr|Cpl|Det|Gov|Govs|Hon|Insp|Lt|Maj|Messrs|Pres|Pvt|"
                        r"Rep|Reps|Rev|Sens|Sgt|Supt)\.$")
# Sentence-final punctuation, then any closing quotes, brackets or emphasis markers.
_SENTENCE_END = re.compile(r"[.!?…;:][\"'”’)\]*]*$")
_DASH_START = re.compile(r"[-–—]\s")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_WORD = re.compile(r"\S+")
# Flags of a sentence row: a piece of a sentence too long for the model's window, and one
# the model read only the start of (a single "word" longer than the window).
CUT, TRUNCATED = "cut", "truncated"


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text == article[start:end]``."""

    index: int
    start: int
    end: int
    text: str
    flags: tuple[str, ...] = ()


def model_text(sentence: str) -> str:
    """The string a model sees: Markdown emphasis removed, whitespace folded, and lone
    surrogates (which no tokenizer takes) replaced by U+FFFD."""
    return _SURROGATE.sub("\ufffd", _SPACE.sub(" ", _MARKUP.sub("", sentence)).strip())


def _lines(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        spans.append((pos, pos + len(body)))
        pos += len(line)
    return spans


def _kind(line: str, block_kind: str | None, blank: bool) -> str:
    """``item`` (a list item), ``closed`` (a heading or a whole-line emphasis),
    ``salutation`` (both a block of their own) or ``text``; ``block_kind`` is the kind of
    the block the line would join."""
    if _LIST_OR_HEADING.match(line):
        return "closed" if line.lstrip().startswith("#") else "item"
    if _EMPHASIS_LINE.match(line):
        return "closed"
    # A salutation opens a paragraph or follows another ("Mr. President,\nExcellencies,").
    salutation = _SALUTATION.match(line) and len(line.split()) <= 6
    return "salutation" if salutation and (blank or block_kind == "salutation") else "text"


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of text between hard line boundaries."""
    filled = [text[s:e] for s, e in _lines(text) if text[s:e].strip()]
    prose = [line.rstrip() for line in filled[:-1]
             if not (_LIST_OR_HEADING.match(line) or _EMPHASIS_LINE.match(line))]
    # Paragraph-per-line text (most news) breaks at every newline; hard-wrapped text
    # (most lines end mid-sentence) only at blank lines and standalone lines.
    per_line = sum(bool(_SENTENCE_END.search(line)) for line in prose) >= 0.5 * len(prose)
    blocks: list[list[int]] = []
    kind: str | None = None  # of the line that opened the current block
    previous, blank = "", True
    for s, e in _lines(text):
        line = text[s:e]
        if not line.strip():
            blank = True
            continue
        this = _kind(line, kind, blank)
        lowercase = line.lstrip()[:1].islower()
        if kind is None or this != "text" or kind in ("closed", "salutation"):
            hard = True
        elif kind == "item":
            # A list item (or numbered paragraph) wrapped onto more lines goes on in
            # lowercase. (Not after a comma: "- Ladies and gentlemen,\nAt the outset".)
            hard = not lowercase or _SENTENCE_END.search(previous.rstrip())
        else:
            hard = per_line or (blank and not lowercase)
        if hard:
            blocks.append([s, e])
            kind = this
        else:
            blocks[-1][1] = e
        previous, blank = line, False
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
    """Split ``text`` into sentences whose offsets index into ``text`` itself; every
    character but spaces (whitespace, and the zero-width space U+200B, a space to syntok)
    is in exactly one sentence (tests/test_properties.py)."""
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


def _pieces(sentence: Sentence, budget: int, count: Callable[[list[str]], list[int]]
            ) -> list[Sentence]:
    words = list(_WORD.finditer(sentence.text))
    groups: list[tuple[int, int, int]] = []  # first word, last word, tokens
    for number, tokens in enumerate(count([model_text(w.group()) for w in words])):
        if groups and groups[-1][2] + tokens <= budget:
            groups[-1] = (groups[-1][0], number, groups[-1][2] + tokens)
        else:
            groups.append((number, number, tokens))
    cut = (CUT,) if len(groups) > 1 else ()
    return [Sentence(0, sentence.start + words[first].start(), sentence.start + words[last].end(),
                     sentence.text[words[first].start():words[last].end()],
                     cut + ((TRUNCATED,) if tokens > budget else ()))
            for first, last, tokens in groups]


def fit_window(sentences: list[Sentence], budget: int,
               count: Callable[[list[str]], list[int]]) -> list[Sentence]:
    """Sentences of more than ``budget`` tokens (``count`` gives the tokens of texts) cut at
    spaces into consecutive pieces of at most ``budget`` tokens each, flagged ``cut``, so
    that the model reads every word (a single word of more than ``budget`` tokens stays
    whole and is flagged ``truncated``); indices are renumbered.

    Only sentences longer than ``budget`` UTF-8 bytes are counted: a token is at least one
    byte."""
    long = [i for i, s in enumerate(sentences) if len(s.text.encode("utf-8", "replace")) > budget]
    if not long:
        return sentences
    counts = dict(zip(long, count([model_text(sentences[i].text) for i in long]), strict=True))
    fitted: list[Sentence] = []
    for i, sentence in enumerate(sentences):
        pieces = _pieces(sentence, budget, count) if counts.get(i, 0) > budget else [sentence]
        base = len(fitted)
        fitted.extend(replace(piece, index=base + k) for k, piece in enumerate(pieces))
    return fitted
