"""engine=ray: Ray Data over an actor pool on a local Ray with 2 workers gives the same
output files as the single-process engine, row for row (input: a folder of files, so
that order is kept across files, batches and actors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, make_rows, same

pytest.importorskip("ray")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def score(engine: str, source: Path, out: Path, model: Path) -> subprocess.CompletedProcess:
    extra = ["engine=ray", "ray.actors=2", "ray.articles_per_batch=3"] if engine == "ray" else []
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "score.py"), f"input={source}",
         f"output_dir={out}", f"model_dir={model}", "device=cpu", "backend=torch",
         "chunk_size=4", *extra], capture_output=True, text=True, timeout=600)


def test_ray_engine_matches_local_engine_row_for_row(tiny_model, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    articles: dict[str, list[str]] = {}
    for row in make_rows(12, seed=5):
        articles.setdefault(row["article_id"], []).append(row["text"])
    for key, texts in articles.items():
        (source / f"{key}.txt").write_text(" ".join(texts), encoding="utf-8")
    (source / "art3x.txt").write_bytes(b"\x00\x01 binary")
    (source / "art5x.txt").write_text(" \n", encoding="utf-8")
    # Inputs flagged on the way: HTML, bytes that are not UTF-8, a sentence cut to the window
    (source / "art6h.html").write_text("<p>Norland attacked the port.</p><p>Talks resume.</p>",
                                       encoding="utf-8")
    (source / "art7l.txt").write_bytes("Sudria d\xe9clined to comment.".encode("latin-1"))
    (source / "art8r.txt").write_text(" ".join(["the convoy stops"] * 300), encoding="utf-8")

    outputs = {}
    for engine in ("local", "ray"):
        done = score(engine, source, tmp_path / engine, tiny_model)
        assert done.returncode == 1, done.stderr[-3000:]  # the two bad files
        outputs[engine] = {name: read_jsonl(tmp_path / engine / name)
                           for name in ("sentences.jsonl", "articles.jsonl", "errors.jsonl")}
    assert "ray (2 actors x 1 CPU; local)" in (tmp_path / "ray" / "report.html").read_text()
    local, ray = outputs["local"], outputs["ray"]
    assert [Path(e["file"]).name for e in ray["errors.jsonl"]] == ["art3x.txt", "art5x.txt"]
    assert [a["article_id"] for a in local["articles.jsonl"]] == sorted(
        [*articles, "art6h", "art7l", "art8r"])
    flags = {a["article_id"]: a["flags"] for a in local["articles.jsonl"]}
    assert [flags[k] for k in ("art6h", "art7l", "art8r")] == [["html"], ["invalid_utf8"], []]
    assert sum(s["flags"] == ["cut"] for s in local["sentences.jsonl"]) > 10
    for name in local:
        assert len(ray[name]) == len(local[name]), name
        for number, (a, b) in enumerate(zip(local[name], ray[name], strict=True)):
            assert same(a, b), f"{name} row {number}: {a} != {b}"
