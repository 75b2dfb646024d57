"""Distillation: the unlabelled pool, resumable teacher labelling (killed for real), the
committed soft labels, and a student trained on them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SHARED, make_news, make_rows, write_jsonl

from stancewatch.data import DataError, StanceData, read_teacher_labels, real_rows
from stancewatch.distill import held_out_articles, label_pool, label_unlabelled, unlabelled_pool

TEACHER_LABELS = ROOT / "data" / "teacher_labels.jsonl"
NEWS = SHARED / "data" / "allsides_news" / "articles.jsonl"
SHARED_TEXT = {"news": NEWS, "ungdc": SHARED / "data" / "ungdc_2024",
               "unscon": SHARED / "data" / "unscon" / "conflict_annotations_sentences.csv"}


def test_pool_skips_gold_and_held_out_articles(tmp_path):
    articles, labels = make_news(tmp_path, n_articles=30)
    gold = {json.loads(line)["id"] for line in labels.read_text().splitlines()[:10]}
    held = held_out_articles([labels])
    pool = unlabelled_pool({"news": articles}, {"news": 10_000}, held, gold, seed=1)
    assert pool and not {row["id"] for row in pool} & gold
    assert not {row["id"].rsplit(":", 1)[0] for row in pool} & held
    again = unlabelled_pool({"news": articles}, {"news": 5}, held, gold, seed=1)
    assert len(again) == 5
    assert unlabelled_pool({"news": tmp_path / "absent.jsonl"}, {"news": 5}, set(), set(), 1) == []


def test_labelling_resumes_and_mends_a_torn_line(tmp_path):
    pool = [{"id": f"news:a:{i}-{i + 1}", "text": "x" * (i % 7 + 1)} for i in range(50)]
    calls = []

    def flaky(texts):
        calls.append(len(texts))
        if len(calls) == 3:
            raise RuntimeError("killed")
        return [[0.2, 0.3, 0.5]] * len(texts)

    out = tmp_path / "soft.jsonl"
    with pytest.raises(RuntimeError):
        label_pool(flaky, pool, out, batch_size=8, progress=False)
    assert len(out.read_text().splitlines()) == 16
    with out.open("a") as handle:
        handle.write('{"id": "news:a:99-1')  # a write cut short by a kill
    assert label_pool(lambda texts: [[0.2, 0.3, 0.5]] * len(texts), pool, out,
                      batch_size=8, progress=False) == 34
    labels = read_teacher_labels(out)
    assert sorted(labels) == sorted(row["id"] for row in pool)


def test_teacher_labelling_survives_sigkill(tmp_path, train_tiny):
    """The script, killed with SIGKILL mid-run, resumes to a complete file with every
    pool sentence exactly once and no torn line."""
    articles, _ = make_news(tmp_path, n_articles=120)
    labels = write_jsonl(tmp_path / "no_gold.jsonl", [])
    run_dir = train_tiny(run_dir=tmp_path / "teacher")
    out = tmp_path / "teacher_labels.jsonl"
    cmd = [sys.executable, str(ROOT / "scripts" / "teacher_label.py"),
           f"model_dirs=[{run_dir / 'model'}]", f"output={out}", f"data.real_labels=[{labels}]",
           f"data.news_path={articles}", "data.ungdc_dir=null", "data.unscon_path=null",
           "pool.news=100000", "batch_size=4", "device=cpu",
           f"hydra.run.dir={tmp_path / 'hydra'}"]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while time.time() < deadline and process.poll() is None and (
            not out.is_file() or out.stat().st_size < 500):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = len(out.read_text().splitlines())
    finished = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    total = int(finished.stdout.split()[0])
    assert 0 < written < total, "the kill landed mid-run"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == total == len({row["id"] for row in rows})
    assert all(abs(sum(row["p"]) - 1) < 1e-3 for row in rows)


def test_several_teachers_give_their_mean_probability(tmp_path, train_tiny):
    """An ensemble teacher: each soft label is the mean of the models' probabilities."""
    from stancewatch.inference import StanceClassifier

    articles, _ = make_news(tmp_path, n_articles=40)
    labels = write_jsonl(tmp_path / "no_gold.jsonl", [])
    models = [train_tiny(f"seed={seed}", "trainer.lr=5e-3", run_dir=tmp_path / f"t{seed}")
              / "model"
              for seed in (1, 2)]
    text = {"news": articles}
    out = tmp_path / "soft.jsonl"
    total, _ = label_unlabelled(models, out, [labels], text, {"news": 30}, seed=0,
                                device="cpu", backend="torch", progress=False)
    soft = read_teacher_labels(out)
    ids = sorted(soft)
    rows = {row["id"]: row["text"] for row in unlabelled_pool(text, {"news": 30}, set(),
                                                              set(), seed=0)}
    each = [StanceClassifier.load(path, device="cpu", backend="torch").predict_proba(
        [rows[i] for i in ids]) for path in models]
    assert len(ids) == total == 30
    assert abs(each[0] - each[1]).max() > 5e-4, "the two teachers should differ"
    for k, i in enumerate(ids):
        assert soft[i] == pytest.approx((each[0][k] + each[1][k]) / 2, abs=1e-4)


def test_bad_teacher_rows_name_their_line(tmp_path):
    for line, message in [('{"id": "news:a:0-1", "p": [0.5, 0.5]}', "3 probabilities"),
                          ('{"id": "news:a:0-1", "p": [0.5, 0.6, 0.1]}', "sum to 1"),
                          ('{"p": [0.2, 0.3, 0.5]}', "string 'id'")]:
        path = tmp_path / "soft.jsonl"
        path.write_text('{"id": "news:b:0-1", "p": [0.2, 0.3, 0.5]}\n' + line + "\n")
        with pytest.raises(DataError, match=rf"soft.jsonl:2: .*{message}"):
            read_teacher_labels(path)


def test_student_data_gold_wins_and_held_out_is_dropped(tmp_path):
    articles, labels = make_news(tmp_path, n_articles=30)
    gold = {json.loads(line)["id"]: json.loads(line) for line in labels.read_text().splitlines()}
    train_gold = [i for i, r in gold.items() if r["split"] == "train"]
    dev_gold = [i for i, r in gold.items() if r["split"] == "dev"]
    # unlabelled sentences: drop some gold labels, keeping their text for the teacher
    unlabelled = train_gold[:6]
    write_jsonl(labels, [r for i, r in gold.items() if i not in unlabelled])
    soft = write_jsonl(tmp_path / "soft.jsonl", [
        {"id": i, "p": [0.1, 0.1, 0.8]} for i in unlabelled + train_gold[6:8] + dev_gold[:2]])
    data = StanceData(corpus=str(write_jsonl(tmp_path / "c.jsonl", make_rows(10))),
                      real_labels=[str(labels)], news_path=str(articles),
                      train_on=["news", "teacher"], teacher_labels=str(soft))
    teacher = [r for r in data.splits["train"] if r["source"] == "teacher"]
    assert sorted(r["id"] for r in teacher) == sorted(unlabelled)
    assert all(r["soft"] == pytest.approx([0.1, 0.1, 0.8]) and "label" not in r for r in teacher)
    assert data.train_sources["teacher"] == 6


def test_student_learns_from_soft_labels(train_tiny, tmp_path):
    """A teacher that calls everything hostile pulls the student towards hostile."""
    articles, _ = make_news(tmp_path, n_articles=30)
    pool = unlabelled_pool({"news": articles}, {"news": 1000}, set(), set(), seed=0)
    soft = write_jsonl(tmp_path / "soft.jsonl",
                       [{"id": r["id"], "p": [0.98, 0.01, 0.01]} for r in pool])
    empty = write_jsonl(tmp_path / "none.jsonl", [])
    common = (f"data.real_labels=[{empty}]", f"data.news_path={articles}",
              f"data.teacher_labels={soft}", "trainer.lr=5e-3", "seed=5")
    student = train_tiny("experiment=distil", *common, run_dir=tmp_path / "student")
    plain = train_tiny("experiment=distil", *common, "data.train_on=[authored]",
                       run_dir=tmp_path / "plain")
    metrics = json.loads((student / "metrics.json").read_text())
    assert metrics["train"]["sources"]["teacher"] == len(pool)

    def hostile_share(run_dir):
        rows = [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text()
                .splitlines()]
        return sum(r["predicted"] == "hostile" for r in rows) / len(rows)

    assert hostile_share(student) > hostile_share(plain) + 0.2


@pytest.mark.skipif(not TEACHER_LABELS.is_file(), reason="no committed teacher labels yet")
def test_committed_teacher_labels_are_valid():
    labels = read_teacher_labels(TEACHER_LABELS)
    assert len(labels) >= 40_000
    assert TEACHER_LABELS.stat().st_size < 5_000_000
    assert "text" not in TEACHER_LABELS.read_text(encoding="utf-8").splitlines()[0]
    held = held_out_articles([ROOT / "data" / "real_labels.jsonl",
                              ROOT / "data" / "news_labels.jsonl"])
    assert not {i.rsplit(":", 1)[0] for i in labels} & held
    if all(path.exists() for path in SHARED_TEXT.values()):
        assert len(real_rows(labels, SHARED_TEXT)) == len(labels)  # every id resolves
