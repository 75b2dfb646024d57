"""Crashes and restarts of a scoring run: resume=true after a kill keeps what was written,
scores only the rest, and leaves no duplicate and no torn line; an unfinished run is not
overwritten by accident, and a resumed run must use the same settings."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, make_rows, same, write_jsonl

from stancewatch import StanceClassifier
from stancewatch.articles import ArticleError, record_key
from stancewatch.outputs import ARTICLES, ERRORS, RUN_FILE, SENTENCES
from stancewatch.scoring import LocalEngine, score_path


def articles_in(n: int, seed: int = 1) -> list[dict]:
    texts: dict[str, list[str]] = {}
    for row in make_rows(n, seed=seed):
        texts.setdefault(row["article_id"], []).append(row["text"])
    return [{"id": key, "text": " ".join(sentences[: 1 + i % 6])}
            for i, (key, sentences) in enumerate(texts.items())]


def input_file(path: Path, n: int) -> Path:
    """``n`` articles with a bad line every 25 lines, so errors are resumed too."""
    lines = [json.dumps(a) for a in articles_in(n)]
    for i in range(0, len(lines), 25):
        lines[i] = "{torn" if i % 50 else json.dumps({"id": f"bad{i}"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def lines_of(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert not raw or raw.endswith(b"\n"), f"{path.name} ends in a torn line"
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def assert_complete(out: Path, reference: Path) -> None:
    """``out`` holds what an uninterrupted run (``reference``) wrote: every record once,
    each article's sentence rows, no torn line (rows may come in another order)."""
    articles, sentences, errors = (lines_of(out / name) for name in (ARTICLES, SENTENCES, ERRORS))
    keys = [record_key(a) for a in articles] + [record_key(ArticleError(**e)) for e in errors]
    assert len(keys) == len(set(keys)), "a record written twice"
    expected = {name: lines_of(reference / name) for name in (ARTICLES, SENTENCES, ERRORS)}
    by_key = {record_key(a): a for a in articles}
    assert set(by_key) == {record_key(a) for a in expected[ARTICLES]}
    for row in expected[ARTICLES]:
        assert same(by_key[record_key(row)], row), row["article_id"]
    assert sorted(map(json.dumps, errors)) == sorted(map(json.dumps, expected[ERRORS]))
    grouped: dict[str, list[dict]] = {}
    for row in sentences:
        grouped.setdefault(row["article_id"], []).append(row)
    reference_rows: dict[str, list[dict]] = {}
    for row in expected[SENTENCES]:
        reference_rows.setdefault(row["article_id"], []).append(row)
    assert grouped.keys() == reference_rows.keys()
    for key, rows in reference_rows.items():
        assert same(grouped[key], rows), key
    # each article's rows are together, in the order of articles.jsonl
    order = list(dict.fromkeys(row["article_id"] for row in sentences))
    assert order == [a["article_id"] for a in articles if a["n_sentences"]]


@pytest.fixture(scope="module")
def reference(tiny_model, tmp_path_factory) -> tuple[Path, Path]:
    """An input of 400 articles and what an uninterrupted run writes for it."""
    root = tmp_path_factory.mktemp("reference")
    source = input_file(root / "in.jsonl", 400)
    score_path(source, root / "out", tiny_model, device="cpu", backend="torch",
               progress=False, chunk_size=8)
    return source, root / "out"


class _Counting(LocalEngine):
    """The local engine that remembers which articles went to the model."""

    def __init__(self, classifier: StanceClassifier) -> None:
        super().__init__(classifier)
        self.scored: list[str] = []
        score_articles = classifier.score_articles

        def spy(articles, *args):
            def seen():
                for article in articles:
                    self.scored.append(article["id"])
                    yield article
            return score_articles(seen(), *args)

        classifier.score_articles = spy


def test_resume_after_a_torn_write_scores_only_the_rest(tiny_model, reference, tmp_path):
    source, expected = reference
    out = tmp_path / "out"
    classifier = StanceClassifier.load(tiny_model, device="cpu", backend="torch")
    every = lines_of(expected / ARTICLES)
    done = every[:150]
    # What a kill leaves: 150 whole articles, the sentence rows of the next one and half of
    # its summary row, and a torn error line.
    kept = {a["article_id"] for a in every[:151]}
    out.mkdir()
    write_jsonl(out / SENTENCES, [s for s in lines_of(expected / SENTENCES)
                                  if s["article_id"] in kept])
    torn = json.dumps(every[150]).encode()[:40]
    write_jsonl(out / ARTICLES, done)
    (out / ARTICLES).write_bytes((out / ARTICLES).read_bytes() + torn)
    errors = [e for e in lines_of(expected / ERRORS) if e["line"] < done[-1]["line"]]
    write_jsonl(out / ERRORS, errors)
    (out / ERRORS).write_bytes((out / ERRORS).read_bytes() + b'{"file": "in.js')
    (out / RUN_FILE).write_text(json.dumps(json.loads((expected / RUN_FILE).read_text())
                                           | {"finished": None}))
    engine = _Counting(classifier)
    run = score_path(source, out, tiny_model, device="cpu", backend="torch", progress=False,
                     chunk_size=8, engine=engine, resume=True)
    assert_complete(out, expected)
    written = {a["article_id"] for a in done}
    assert engine.scored == [a["article_id"] for a in every if a["article_id"] not in written], \
        "only the rest is scored"
    assert run.n_articles == len(every)
    assert len(run.errors) == len(lines_of(expected / ERRORS))
    assert json.loads((out / RUN_FILE).read_text())["finished"] is not None


def _score(source: Path, out: Path, model: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "score.py"), f"input={source}",
         f"output_dir={out}", f"model_dir={model}", "device=cpu", "backend=torch",
         "chunk_size=8", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_at_random_points_then_resume(tiny_model, reference, tmp_path):
    source, expected = reference
    out = tmp_path / "out"
    rng = random.Random(11)
    total = (expected / ARTICLES).stat().st_size
    progress = []
    for attempt in range(3):
        process = _score(source, out, tiny_model, *(["resume=true"] if attempt else []))
        deadline = time.monotonic() + 120
        # a random point of the output, not of the clock: on a fast machine a random
        # delay can outlast the whole run
        target = (progress[-1][1] if progress else 0) + rng.uniform(0.05, 0.25) * total
        while not (out / ARTICLES).is_file() or (out / ARTICLES).stat().st_size < target:
            assert process.poll() is None, process.communicate()[1][-3000:]
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        progress.append((attempt, (out / ARTICLES).stat().st_size))
    assert progress[-1][1] < (expected / ARTICLES).stat().st_size, "killed before the end"
    process = _score(source, out, tiny_model, "resume=true")
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr[-3000:]  # the bad lines
    assert "resuming:" in stderr
    assert_complete(out, expected)


def test_an_unfinished_run_is_not_overwritten_and_settings_must_match(tiny_model, reference,
                                                                      tmp_path):
    source, _ = reference
    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_FILE).write_text(json.dumps({"settings": {}, "started": "x", "finished": None}))
    with pytest.raises(ValueError, match="holds an unfinished scoring run: resume=true"):
        score_path(source, out, tiny_model, device="cpu", backend="torch", progress=False)
    other = tmp_path / "other.jsonl"
    write_jsonl(other, articles_in(3))
    score_path(other, out / "a", tiny_model, device="cpu", backend="torch", progress=False)
    (out / "a" / RUN_FILE).write_text(json.dumps(
        json.loads((out / "a" / RUN_FILE).read_text()) | {"finished": None}))
    with pytest.raises(ValueError, match=r"scored with input=.*other\.jsonl"):
        score_path(source, out / "a", tiny_model, device="cpu", backend="torch",
                   progress=False, resume=True)
    with pytest.raises(ValueError, match="scored with backend='torch', not 'onnx'"):
        score_path(other, out / "a", tiny_model, device="cpu", backend="onnx",
                   progress=False, resume=True)
    # nothing to resume: the run starts from the beginning
    run = score_path(other, out / "b", tiny_model, device="cpu", backend="torch",
                     progress=False, resume=True)
    assert run.n_articles == 3
