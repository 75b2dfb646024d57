"""The ``stancewatch`` command as a user runs it: a subprocess started in a folder of its
own, for the editable install and for a wheel installed elsewhere; and what it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import ROOT, tiny_overrides, write_jsonl

from stancewatch.records import read_record

STANCEWATCH = Path(sys.executable).with_name("stancewatch")
# What a normal run must not print (library bars, load reports, the Trainer's log dicts,
# Python warnings).
NOISE = ("Loading weights", "LOAD REPORT", "Writing model shards", "eval_loss", "{'loss'",
         "Warning:", "warnings.warn", "Traceback")
ARTICLES = [
    {"id": "a1", "text": "Norland threatened to destroy the dam within days. The talks on the "
                         "port will resume in Geneva on Monday.",
     "date": "2026-02-03", "source": "Wire"},
    {"id": "a2", "text": "If Ostmark sends the convoy, relations will be ruined.",
     "date": "2026-02-20", "source": "Herald"},
]


def run(args: list[str], cwd: Path, *, command: list[str] | None = None,
        **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "PROJECT_ROOT"}
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run([*(command or [str(STANCEWATCH)]), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={**environment, **env})


def terminal_lines(stream: str) -> list[str]:
    """What stays on a terminal: progress-bar redraws (``\\r``) count as lines too."""
    return [line for line in re.split(r"[\r\n]", stream) if line.strip()]


def test_help_lists_the_commands_and_their_main_keys(tmp_path):
    done = run(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    for command in ("score", "train", "evaluate", "compare"):
        assert re.search(rf"^  {command} ", done.stdout, re.M), command
    for key in ("input", "model_dir", "output_dir", "experiment=", "data.path", "runs_dir"):
        assert key in done.stdout, key
    score = run(["score", "--help"], tmp_path).stdout
    assert re.search(r"^  input\s+\?\?\? \(required\)", score, re.M)
    assert re.search(r"^  format\s+jsonl\s+# jsonl \| csv", score, re.M)
    train = run(["train", "-h"], tmp_path).stdout
    assert re.search(r"^  experiment\s+.*\bdistil\b.*\(default: none\)", train, re.M)
    assert re.search(r"^  model\s+.*\bminilm\b.*\(default: minilm\)", train, re.M)
    unknown = run(["scroe"], tmp_path)
    assert unknown.returncode != 0 and "unknown command 'scroe'" in unknown.stderr


def test_score_from_another_folder_is_quiet(tiny_model, tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    write_jsonl(cwd / "news.jsonl", ARTICLES)
    done = run(["score", "input=news.jsonl", "output_dir=out", f"model_dir={tiny_model}",
                "device=cpu"], cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (cwd / "out" / "report.html").is_file() and (cwd / "out" / "articles.jsonl").is_file()
    assert "Threat score over time" in (cwd / "out" / "report.html").read_text(encoding="utf-8")
    assert "2 articles, 3 sentences scored -> out/report.html" in done.stdout
    assert re.search(r"^\s*\d\.\d\d\s+\d+\s+\d+\s+\d+\s+a[12]", done.stdout, re.M)
    assert not [n for n in NOISE if n in done.stderr + done.stdout], done.stderr
    assert all(line.startswith("scoring:") for line in terminal_lines(done.stderr)), done.stderr
    verbose = run(["score", "input=news.jsonl", "output_dir=out2", f"model_dir={tiny_model}",
                   "device=cpu", "backend=torch", "verbose=true"], cwd)
    assert verbose.returncode == 0, verbose.stderr[-3000:]
    assert "Loading weights" in verbose.stderr, "verbose=true brings library output back"


def test_errors_are_one_line_naming_the_file(tmp_path):
    done = run(["score", "input=missing.jsonl", "output_dir=out"], tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: missing.jsonl: no such file or folder"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n', encoding="utf-8")
    done = run(["evaluate", f"data.path={bad}", "output_dir=ev"], tmp_path)
    assert done.returncode == 1
    assert terminal_lines(done.stderr) == [f"error: {bad}:1: label None is not one of "
                                           "hostile, conditional, neutral"]


def test_train_evaluate_and_compare_from_another_folder(tmp_path, corpus, tiny_backbone):
    cwd = tmp_path / "elsewhere"
    overrides = [*tiny_overrides(tmp_path, corpus, tiny_backbone), "trainer.progress_bar=true"]
    done = run(["train", *overrides], cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    assert f"run       -> {run_dir}" in done.stdout
    assert re.search(r"^test\s+24\s+\d\.\d{3}\s+\d\.\d{3}\s+\d\.\d{3}$", done.stdout, re.M)
    assert (run_dir / "model" / "README.md").is_file()
    assert not [n for n in NOISE if n in done.stderr + done.stdout], done.stderr
    lines = terminal_lines(done.stderr)
    bars = {line.split(":")[0] for line in lines if "%|" in line}
    assert bars == {"training", "evaluating"}, "a progress bar per long step, no other"
    messages = [line for line in lines if "%|" not in line]
    assert not [m for m in messages if re.match(r"\[\d{4}-", m) or "INFO" in m], messages
    assert len(messages) <= len(read_record(run_dir)["metrics"]) + 2, messages
    evaluated = run(["evaluate", f"model_dir={run_dir / 'model'}", f"data.path={corpus}",
                     "data.name=everything", "output_dir=ev", "device=cpu"], cwd)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert evaluated.stdout.startswith("n=120 ") and (cwd / "ev" / "metrics.json").is_file()
    compared = run(["compare", f"runs_dir={tmp_path / 'outputs' / 'runs'}", "output_dir=cmp"],
                   cwd)
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert "| default | 1 |" in compared.stdout and (cwd / "cmp").is_dir()


def test_installed_wheel_finds_its_configs_anywhere(tmp_path, tiny_model):
    """A regular (not editable) install: the configs come from the package, and the
    project root is the current folder."""
    wheels, site, cwd = tmp_path / "wheels", tmp_path / "site", tmp_path / "work"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("stancewatch-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    python = [sys.executable, "-m", "stancewatch"]
    where = run(["-c", "import stancewatch; print(stancewatch.__file__)"], cwd,
                command=[sys.executable], PYTHONPATH=str(site))
    assert where.stdout.strip() == str(site / "stancewatch" / "__init__.py")
    config = run(["score", "input=news.jsonl", "--cfg", "job", "--resolve"], cwd,
                 command=python, PYTHONPATH=str(site))
    assert config.returncode == 0, config.stderr[-3000:]
    assert f"root_dir: {cwd}" in config.stdout
    write_jsonl(cwd / "news.jsonl", ARTICLES)
    done = run(["score", "input=news.jsonl", "output_dir=out", f"model_dir={tiny_model}",
                "device=cpu"], cwd, command=python, PYTHONPATH=str(site))
    assert done.returncode == 0, done.stderr[-3000:]
    assert (cwd / "out" / "report.html").is_file()


def test_every_subpackage_and_config_folder_ships_in_the_package():
    """An editable install finds every folder anyway; a wheel holds only those listed."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]
    folders = {".".join(("stancewatch", *p.parent.relative_to(ROOT).parts))
               for p in (ROOT / "configs").rglob("*.yaml")}
    source = ROOT / "src"
    folders |= {".".join(p.parent.relative_to(source).parts)
                for p in (source / "stancewatch").rglob("__init__.py")}
    assert folders <= set(packages), folders - set(packages)
