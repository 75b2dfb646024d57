"""What an input's text goes through before it is scored, and the flags it earns.

- Bytes: a byte-order mark picks UTF-8, UTF-16 or UTF-32 and is dropped; without one the
  text is UTF-8. Bytes that are not UTF-8 become U+FFFD and the article is flagged
  ``invalid_utf8`` (one stray byte from a legacy encoding should not cost an article).
  A NUL byte, or more than :data:`MAX_BAD_SHARE` of undecodable bytes and control
  characters, means the input is not text (binary, or another encoding), and it is
  rejected with the offset of the first bad byte.
- HTML: text with tags of HTML elements has them removed (scripts and styles with their
  content, block elements as line breaks, entities decoded) and is flagged ``html``;
  offsets then index the text after removal, which is what the outputs show.
- Language: an article whose words are rarely common English words is flagged
  ``not_english``: the models are trained on English and their labels there mean little.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

INVALID_UTF8, HTML, NOT_ENGLISH = "invalid_utf8", "html", "not_english"
# Beyond this share of undecodable bytes and control characters, an input is not text.
MAX_BAD_SHARE = 0.1
# UTF-32 first: its little-endian mark begins with UTF-16's.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Control characters (category Cc) other than tab, line feed, vertical tab, form feed and
# carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


class NotText(ValueError):
    """Bytes that are not a text: the message says why and where."""


def _decode(raw: bytes) -> tuple[str, int, int | None]:
    """The text, how many bad byte sequences became U+FFFD and the offset of the first."""
    skip, encoding = next(((len(bom), name) for bom, name in _BOMS if raw.startswith(bom)),
                          (0, "utf-8"))
    body = raw[skip:]
    if encoding == "utf-8" and (nul := body.find(b"\x00")) >= 0:
        raise NotText(f"binary data, not text (a NUL byte at offset {skip + nul})")
    try:
        return body.decode(encoding), 0, None
    except UnicodeDecodeError as err:
        first = skip + err.start
    text = body.decode(encoding, errors="replace")
    kept = body.count("\ufffd".encode(encoding))
    return text, text.count("\ufffd") - kept, first


def decode_bytes(raw: bytes) -> tuple[str, list[str]]:
    """Text and flags from a file's (or a line's) bytes; raises :class:`NotText`."""
    text, bad, first = _decode(raw)
    if "\x00" in text:
        raise NotText(f"binary data, not text (a NUL character at character {text.index(chr(0))})")
    controls = len(_CONTROL.findall(text))
    if text and (bad + controls) > MAX_BAD_SHARE * len(text):
        where = f"; the first undecodable byte is at offset {first}" if first is not None else ""
        raise NotText(f"not UTF-8 text: {bad} undecodable byte sequences and {controls} control "
                      f"characters in {len(text)} characters (binary, or another encoding: "
                      f"convert it to UTF-8){where}")
    return text, [INVALID_UTF8] if bad else []


def replace_surrogates(value: str) -> tuple[str, list[str]]:
    """Lone surrogates (from JSON escapes such as ``\\ud800``) cannot be written as UTF-8:
    U+FFFD instead, and the ``invalid_utf8`` flag."""
    if _SURROGATE.search(value) is None:
        return value, []
    return _SURROGATE.sub("\ufffd", value), [INVALID_UTF8]


# The tags of HTML elements (or a doctype or comment): text holding one is HTML. Angle
# brackets around other words ("<talks>") are text.
_HTML_TAG = re.compile(
    r"<(?:!doctype\s+html|!--|/?(?:html|head|body|p|div|span|br|a|b|i|u|s|em|strong|small|"
    r"sub|sup|ul|ol|li|dl|dt|dd|h[1-6]|table|thead|tbody|tr|td|th|script|style|noscript|"
    r"template|iframe|img|figure|figcaption|article|section|header|footer|nav|aside|main|"
    r"blockquote|q|cite|pre|code|hr|meta|link|title|font|center|time|abbr|mark|label|"
    r"button|form|input|svg|picture|source|video|audio|object|embed)(?=[\s/>]))",
    re.IGNORECASE)
_HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe",
                     "object"})
_BLOCKS = frozenset({"p", "div", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
                     "tr", "table", "ul", "ol", "dl", "section", "article", "header", "footer",
                     "nav", "aside", "main", "blockquote", "pre", "figure", "figcaption", "hr",
                     "body", "html"})
_BLANK_LINES = re.compile(r"[ \t]*\n(?:[ \t]*\n)+")


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            # HTML lets a page leave </head> out: the body ends whatever was hidden
            self.hidden = 0
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "br":
            # a line break, not a paragraph: a sentence may go on after it
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def is_html(text: str) -> bool:
    return _HTML_TAG.search(text) is not None


def strip_html(text: str) -> str:
    """The text of an HTML document or fragment: paragraphs on lines of their own."""
    parser = _TextOf()
    parser.feed(text)
    parser.close()
    lines = "".join(parser.parts).replace("\r\n", "\n").replace("\xa0", " ")
    return _BLANK_LINES.sub("\n\n", lines).strip()


def text_flags(text: str) -> tuple[str, list[str]]:
    """HTML removed (flagged ``html``) when the text has HTML tags."""
    if not is_html(text):
        return text, []
    return strip_html(text), [HTML]


# Common English words (function words mostly, leaving out those that are common words of
# other Latin-script languages too: "a", "in", "is", "no", ...). Per article they make at
# least 17 % of the words of the 3,700 allsides news articles and 29 % of the 192 UN
# speeches (../shared), and at most 4 % of a French, German, Spanish, Italian, Dutch or
# Portuguese paragraph (tests/test_inputs.py); none of other scripts.
_ENGLISH = frozenset("""
the of and to that for it with as was be by at this are from have has had not but or they
he she we his her their its will would been were which who said there more also than after
about over into can could should may might must our you your my them what when where while
if all one two new other some any these those such only very just most many much now then
before because between against during under again
""".split())
# Fewer words than this say too little about the language to judge.
MIN_WORDS = 12
# Below this share of common English words, an article is flagged not_english.
MIN_ENGLISH_SHARE = 0.1
_WORD = re.compile(r"[^\W\d_]+")


def english_share(text: str) -> float | None:
    """The share of the words of ``text`` that are common English words; ``None`` for a
    text of fewer than :data:`MIN_WORDS` words."""
    words = _WORD.findall(text.lower())
    if len(words) < MIN_WORDS:
        return None
    return sum(word in _ENGLISH for word in words) / len(words)


def language_flags(text: str) -> list[str]:
    share = english_share(text)
    return [NOT_ENGLISH] if share is not None and share < MIN_ENGLISH_SHARE else []
