"""Draw the real news sentences to label by hand (the draws are seeded).

python scripts/sample_news.py --out drawn.jsonl                       # round 1
python scripts/sample_news.py --round 2 --exclude drawn.jsonl --out drawn2.jsonl

Round 1 draws whole articles per split, then strata (see sources.NEWS_STRATA) over every
article. Round 2 adds training data only, from train-split articles: whole articles
that round 1 did not touch, and strata over the sentences it did not draw. The output
holds the article text: keep it outside the project (the articles' terms forbid copying
them).
"""

import argparse
import json
import random
from functools import partial

from stancewatch.data import NEWS_SHARES, split_for_article
from stancewatch.records import write_jsonl
from stancewatch.sources import (
    NEWS_STRATA,
    draw_for_labelling,
    draw_whole_articles,
    news_sentences,
)

ROUNDS = {
    1: {"seed": 17, "whole": {"train": 38, "dev": 23, "test": 23},
        "quotas": {"threat_condition": 1600, "condition": 400, "threat_verb": 350,
                   "hostile": 350, "demand_refusal": 300, "cooperative": 350, "random": 400}},
    2: {"seed": 41, "whole": {"train": 75},
        "quotas": {"threat_condition": 700, "condition": 500, "threat_verb": 400,
                   "hostile": 450, "demand_refusal": 250, "cooperative": 250, "random": 200}},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--news", default="../shared/data/allsides_news/articles.jsonl")
    parser.add_argument("--out", required=True)
    parser.add_argument("--round", type=int, choices=sorted(ROUNDS), default=1)
    parser.add_argument("--exclude", help="an earlier draw: its sentences are not drawn "
                        "again, nor its articles as whole articles")
    args = parser.parse_args()
    plan = ROUNDS[args.round]
    rng = random.Random(plan["seed"])
    split_of = partial(split_for_article, shares=NEWS_SHARES)
    rows = list(news_sentences(args.news))
    done_ids: set[str] = set()
    if args.exclude:
        with open(args.exclude, encoding="utf-8") as handle:
            done_ids = {json.loads(line)["id"] for line in handle}
    done_articles = {i.rsplit(":", 1)[0] for i in done_ids}
    rows = [r for r in rows if split_of(r["article_id"]) in plan["whole"]]
    whole = draw_whole_articles([r for r in rows if r["article_id"] not in done_articles],
                                plan["whole"], split_of, rng)
    taken = {row["article_id"] for row in whole}
    rest = [r for r in rows if r["article_id"] not in taken and r["id"] not in done_ids]
    picked = whole + draw_for_labelling(rest, plan["quotas"], rng, NEWS_STRATA)
    picked = [{**row, "split": split_of(row["article_id"])} for row in picked]
    picked.sort(key=lambda r: (r["article_id"], r["position"]))
    write_jsonl(args.out, picked)
    print(f"{len(picked)} sentences from {len(taken)} whole and "
          f"{len({r['article_id'] for r in picked}) - len(taken)} other articles -> {args.out}")


if __name__ == "__main__":
    main()
