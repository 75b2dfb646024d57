"""Draw the real news sentences to label by hand (run once; the draw is seeded).

python scripts/sample_news.py --out drawn.jsonl
(whole articles per split, then strata: see sources.NEWS_STRATA). The output holds the
article text: keep it outside the project (the articles' terms forbid copying them).
"""

import argparse
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

WHOLE = {"train": 38, "dev": 23, "test": 23}
QUOTAS = {"threat_condition": 1600, "condition": 400, "threat_verb": 350, "hostile": 350,
          "demand_refusal": 300, "cooperative": 350, "random": 400}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--news", default="../shared/data/allsides_news/articles.jsonl")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    split_of = partial(split_for_article, shares=NEWS_SHARES)
    rows = list(news_sentences(args.news))
    whole = draw_whole_articles(rows, WHOLE, split_of, rng)
    taken = {row["article_id"] for row in whole}
    picked = whole + draw_for_labelling([r for r in rows if r["article_id"] not in taken],
                                        QUOTAS, rng, NEWS_STRATA)
    picked = [{**row, "split": split_of(row["article_id"])} for row in picked]
    picked.sort(key=lambda r: (r["article_id"], r["position"]))
    write_jsonl(args.out, picked)
    print(f"{len(picked)} sentences from {len(taken)} whole and "
          f"{len({r['article_id'] for r in picked}) - len(taken)} other articles -> {args.out}")


if __name__ == "__main__":
    main()
