"""Assemble authored article files into data/corpus.jsonl with per-article splits.

python scripts/build_corpus.py 'staging/*.jsonl' data/corpus.jsonl

An article's split comes from a hash of its id (80/10/10), so it never changes when
other articles are added and no article straddles splits.
"""

import glob
import hashlib
import json
import sys
from collections import defaultdict

KEYS = ("id", "article_id", "position", "text", "label", "split",
        "hard_case", "domain", "region", "register", "parties")


def split_of(article_id: str) -> str:
    bucket = int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % 10
    return {0: "test", 1: "validation"}.get(bucket, "train")


def main(pattern: str, out: str) -> None:
    articles = defaultdict(list)
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    articles[row["article_id"]].append(row)
    with open(out, "w", encoding="utf-8") as handle:
        for article_id in sorted(articles):
            for row in sorted(articles[article_id], key=lambda r: r["position"]):
                row = {**row, "id": f"{article_id}-s{row['position']:02d}",
                       "split": split_of(article_id), "text": row["text"].strip()}
                handle.write(json.dumps({k: row.get(k) for k in KEYS}, ensure_ascii=False) + "\n")
    print(f"{sum(map(len, articles.values()))} sentences in {len(articles)} articles -> {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
