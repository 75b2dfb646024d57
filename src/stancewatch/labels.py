"""The label set of LABELS.md, in the fixed order every model and file uses."""

LABELS: tuple[str, ...] = ("hostile", "conditional", "neutral")
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
# One line per label for reports and model cards; the full rules are the guide's.
DESCRIPTIONS: dict[str, str] = {
    "hostile": "threat, condemnation or hostile act with no condition attached",
    "conditional": "a consequence made to depend on a condition",
    "neutral": "everything else",
}
# The colour of each label in reports (RGB).
COLOURS: dict[str, tuple[int, int, int]] = {
    "hostile": (214, 39, 40), "conditional": (240, 150, 0), "neutral": (140, 140, 140)}
