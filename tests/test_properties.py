"""Property tests (hypothesis) for the splitter and the scorer: for any Unicode text,
sentence offsets are in bounds and ordered, the sentences cover every non-space character
exactly once, and scoring never raises. CI runs a short budget (the ``ci`` profile in
conftest.py); ``HYPOTHESIS_PROFILE=fuzz`` runs a long one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stancewatch import StanceClassifier
from stancewatch.labels import LABELS
from stancewatch.segment import split_sentences

# Any code point, lone surrogates included (JSON escapes can carry them).
ANY_CHARACTER = st.characters(exclude_categories=())
# Pieces of news-like text that exercise the splitter's rules: abbreviations, titles,
# datelines, quotes, list items, headings, salutations, emphasis, wrapped lines.
PIECES = ["Norland", "threatened", "the", "dam", "U.S.", "Mr.", "Gov.", "p.m.", "3.5", "Jan.",
          "WASHINGTON (Reuters)", " - ", " — ", ".", "?", "!", "…", ",", ";", ":", '"', "“",
          "”", "'", "(", ")", "*", "**", "__", "_", "#", "- ", "1. ", "•", " ", "  ", "\t",
          "\n", "\n\n", "\r\n", "\u2028", "\x0c", "\xa0", "\u200b", "é", "Ж", "中文", "🙂"]
NEWSLIKE = st.lists(st.one_of(st.sampled_from(PIECES), st.text(ANY_CHARACTER, max_size=3)),
                    max_size=80).map("".join)
TEXTS = st.one_of(st.text(ANY_CHARACTER, max_size=300), NEWSLIKE)


def is_space(character: str) -> bool:
    """What the splitter treats as space: Python's whitespace, and the zero-width space,
    which syntok (and a reader) takes for one."""
    return character.isspace() or character == "\u200b"


def check_spans(text: str, spans: list[tuple[int, int]]) -> None:
    """In bounds, non-empty, ordered without overlap, and every non-space character of
    ``text`` in exactly one span."""
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        previous_end = end
    covered = [0] * len(text)
    for start, end in spans:
        for i in range(start, end):
            covered[i] += 1
    for i, character in enumerate(text):
        wanted = (0, 1) if is_space(character) else (1,)
        assert covered[i] in wanted, f"{character!r} at {i} is in {covered[i]} sentences"


@given(TEXTS)
def test_sentences_cover_every_non_space_character_once(text):
    sentences = split_sentences(text)
    check_spans(text, [(s.start, s.end) for s in sentences])
    for number, sentence in enumerate(sentences):
        assert sentence.index == number
        assert sentence.text == text[sentence.start:sentence.end]
        assert sentence.text == sentence.text.strip()


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.load(tiny_model, device="cpu", backend="torch")


@settings(max_examples=max(20, settings().max_examples // 5),
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS)
def test_scoring_any_text_never_raises(classifier, text):
    result = classifier.score_article(text, article_id="a")
    rows = result["sentences"]
    # Sentences cut to the model's window are still in order and cover the text once.
    check_spans(text, [(row["start"], row["end"]) for row in rows])
    assert result["summary"]["n_sentences"] == len(rows)
    assert 0.0 <= result["summary"]["threat_score"] <= 1.0
    for number, row in enumerate(rows):
        assert row["index"] == number and row["label"] in LABELS
        assert text[row["start"]:row["end"]] == row["text"]
        assert abs(sum(row["scores"].values()) - 1) < 1e-5
