"""Sentence splitting on news-style text: exact boundaries, and offsets that index the
original text."""

import pytest

from stancewatch.segment import model_text, split_sentences

CASES = {
    "dateline, quotes and abbreviations": (
        'WASHINGTON (Reuters) - The U.S. envoy, Mr. Hale, landed in Ostburg on Jan. 5 at '
        '3 p.m. local time. "We will not be intimidated," he told reporters. "Any strike on '
        'the convoy would be met with force."\n'
        "The ministry declined to comment.",
        [
            "WASHINGTON (Reuters) - The U.S. envoy, Mr. Hale, landed in Ostburg on Jan. 5 "
            "at 3 p.m. local time.",
            '"We will not be intimidated," he told reporters.',
            '"Any strike on the convoy would be met with force."',
            "The ministry declined to comment.",
        ],
    ),
    "abbreviation ends one sentence, titles open the next": (
        "The sanctions were first imposed by the U.S. The vote ended at 5 p.m. on Friday. "
        "Gov. Ortiz and Lt. Gen. Ruiz left before it. Sen. Hale stayed.",
        [
            "The sanctions were first imposed by the U.S.",
            "The vote ended at 5 p.m. on Friday.",
            "Gov. Ortiz and Lt. Gen. Ruiz left before it.",
            "Sen. Hale stayed.",
        ],
    ),
    "ellipses": (
        "The envoy paused... Then he spoke again. The talks, he said, were \"going nowhere...\" "
        "and would end. Nobody knew what came next…",
        [
            "The envoy paused...",
            "Then he spoke again.",
            'The talks, he said, were "going nowhere..." and would end.',
            "Nobody knew what came next…",
        ],
    ),
    "em and en dashes": (
        "The accord — signed in Vienna in 2019 — collapsed last week. Norland–Sudria trade fell "
        "12% – the steepest drop in a decade. GENEVA (AP) — Talks resumed on Monday.",
        [
            "The accord — signed in Vienna in 2019 — collapsed last week.",
            "Norland–Sudria trade fell 12% – the steepest drop in a decade.",
            "GENEVA (AP) — Talks resumed on Monday.",
        ],
    ),
    "bullet list, one item wrapped": (
        "The ministry listed three demands:\n"
        "- withdraw the troops from the border\n"
        "- release the detained sailors, who\n"
        "  were seized in March\n"
        "- reopen the crossing at Velk\n"
        "Talks resume on Monday.\n"
        "Officials were not optimistic.",
        [
            "The ministry listed three demands:",
            "- withdraw the troops from the border",
            "- release the detained sailors, who\n  were seized in March",
            "- reopen the crossing at Velk",
            "Talks resume on Monday.",
            "Officials were not optimistic.",
        ],
    ),
    "Markdown salutations and heading": (
        "**Mr President,**\n\n**Excellencies,**\n\n"
        "I congratulate you on your election. We stand ready to work with all delegations.\n\n"
        "## Security\n"
        "The situation on our border has **never** been more dangerous.",
        [
            "**Mr President,**",
            "**Excellencies,**",
            "I congratulate you on your election.",
            "We stand ready to work with all delegations.",
            "## Security",
            "The situation on our border has **never** been more dangerous.",
        ],
    ),
    "plain salutation lines in a hard-wrapped speech": (
        "Mr. President,\nMr. Secretary-General,\nExcellencies,\n"
        "I congratulate you on assuming the presidency of this session and thank\n"
        "your predecessor for his work. Our region has known\n"
        "war for too long.",
        [
            "Mr. President,",
            "Mr. Secretary-General,",
            "Excellencies,",
            "I congratulate you on assuming the presidency of this session and thank\n"
            "your predecessor for his work.",
            "Our region has known\nwar for too long.",
        ],
    ),
    "hard-wrapped PDF text with blank lines mid-sentence": (
        "The delegation said that the sanctions\n"
        "would remain in place until the\n"
        "\n"
        "government complied with the ruling of\n"
        "the court. It added that no talks\n"
        "were planned.\n"
        "\n"
        "3. A second statement followed on\n"
        "the next day.",
        [
            "The delegation said that the sanctions\nwould remain in place until the\n\n"
            "government complied with the ruling of\nthe court.",
            "It added that no talks\nwere planned.",
            "3. A second statement followed on\nthe next day.",
        ],
    ),
    "headline without a period": (
        'Norland warns Sudria of "consequences" over border drills\n'
        "\n"
        "OSTBURG, March 3 — Norland on Tuesday warned Sudria against holding drills near "
        "the border. The warning came a day after talks in Geneva collapsed.",
        [
            'Norland warns Sudria of "consequences" over border drills',
            "OSTBURG, March 3 — Norland on Tuesday warned Sudria against holding drills near "
            "the border.",
            "The warning came a day after talks in Geneva collapsed.",
        ],
    ),
    "questions, exclamations, parentheses and Windows line ends": (
        'Who will pay? Nobody knows! The minister said: "We will see."\r\n'
        "The ministry spoke. (It later retracted the statement.) Talks resumed.\r\n",
        [
            "Who will pay?",
            "Nobody knows!",
            'The minister said: "We will see."',
            "The ministry spoke.",
            "(It later retracted the statement.)",
            "Talks resumed.",
        ],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_exact_boundaries_and_offsets(name):
    text, expected = CASES[name]
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == expected
    assert [s.index for s in sentences] == list(range(len(expected)))
    for sentence in sentences:
        assert text[sentence.start:sentence.end] == sentence.text


def test_blank_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\n\t\n") == []


def test_model_text_drops_emphasis_and_folds_wrapping():
    assert model_text("**Mr President,**") == "Mr President,"
    assert model_text("the\n\ngovernment *never*   complied") == "the government never complied"
