"""The label set of LABELS.md, in the fixed order every model and file uses."""

LABELS: tuple[str, ...] = ("hostile", "conditional", "neutral")
LABEL2ID: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
