"""Draw the real sentences to label by hand (run once; the draw is seeded).

python scripts/sample_real.py --out drawn.jsonl  (strata: see sources.draw_for_labelling)
"""

import argparse
import random

from stancewatch.records import write_jsonl
from stancewatch.sources import draw_for_labelling, ungdc_sentences, unscon_sentences


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
    picked = draw_for_labelling(list(ungdc_sentences(args.ungdc)),
                                {"condition": 500, "hostile": 380, "random": 300}, rng)
    picked += draw_for_labelling(unscon, {"condition": 300, "hostile": 300, "random": 300}, rng)
    picked.sort(key=lambda r: (r["article_id"], r["position"]))
    write_jsonl(args.out, picked)
    print(f"{len(picked)} sentences drawn -> {args.out}")


if __name__ == "__main__":
    main()
