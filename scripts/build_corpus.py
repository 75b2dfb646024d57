"""Assemble authored article files into data/corpus.jsonl with per-article splits.

python scripts/build_corpus.py 'staging/*.jsonl' data/corpus.jsonl
"""

import glob
import json
import sys
from collections import defaultdict

from stancewatch.data import split_for_article
from stancewatch.records import write_jsonl

KEYS = ("id", "article_id", "position", "text", "label", "split",
        "hard_case", "domain", "region", "register", "parties")


def main(pattern: str, out: str) -> None:
    articles = defaultdict(list)
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    articles[row["article_id"]].append(row)
    rows = [
        {**{k: row.get(k) for k in KEYS}, "id": f"{article_id}-s{row['position']:02d}",
         "split": split_for_article(article_id), "text": row["text"].strip()}
        for article_id in sorted(articles)
        for row in sorted(articles[article_id], key=lambda r: r["position"])
    ]
    write_jsonl(out, rows)
    print(f"{len(rows)} sentences in {len(articles)} articles -> {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
