"""Draw the real sentences to label by hand (run once; the draw is seeded).

Conditionals are rare in speeches, so the draw over-samples sentences with condition
markers and with hostile vocabulary; the rest is a uniform sample. Each drawn id keeps
the stratum it came from (``sampled_by``) so the data card can report the design.
"""

import argparse
import json
import random
import re

from stancewatch.sources import ungdc_sentences, unscon_sentences

CONDITION = re.compile(
    r"\b(if|unless|should|once|in case|provided that|as long as|otherwise|would)\b", re.I
)
HOSTILE = re.compile(
    r"\b(condemn\w*|aggress\w*|occup\w*|threat\w*|attack\w*|invasion|invad\w*|genocide|"
    r"terror\w*|sanction\w*|war crimes?|illegal\w*|violat\w*|annex\w*|provocat\w*|"
    r"hostil\w*|bomb\w*|kill\w*|massacre\w*|atrocit\w*|accuse\w*|blackmail\w*|coerc\w*)\b",
    re.I,
)


def draw(rows: list[dict], quotas: dict[str, int], rng: random.Random) -> list[dict]:
    strata: dict[str, list[dict]] = {"condition": [], "hostile": [], "random": []}
    for row in rows:
        if len(row["text"].split()) < 4:
            continue
        key = "condition" if CONDITION.search(row["text"]) else (
            "hostile" if HOSTILE.search(row["text"]) else "random")
        strata[key].append(row)
    picked = []
    for key, n in quotas.items():
        for row in rng.sample(strata[key], min(n, len(strata[key]))):
            picked.append({**row, "sampled_by": key})
    return picked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ungdc", default="../shared/data/ungdc_2024")
    parser.add_argument(
        "--unscon", default="../shared/data/unscon/conflict_annotations_sentences.csv")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    unscon = list({r["id"]: r for r in unscon_sentences(args.unscon)}.values())
    picked = draw(list(ungdc_sentences(args.ungdc)),
                  {"condition": 500, "hostile": 380, "random": 300}, rng)
    picked += draw(unscon, {"condition": 300, "hostile": 300, "random": 300}, rng)
    picked.sort(key=lambda r: (r["article_id"], r["position"]))
    with open(args.out, "w", encoding="utf-8") as handle:
        for row in picked:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(picked)} sentences drawn -> {args.out}")


if __name__ == "__main__":
    main()
