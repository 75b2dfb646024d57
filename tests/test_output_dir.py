"""An output folder that cannot take the outputs (not creatable, not writable, full) ends
every command with one line before any model work; a disk that fills during a run says
what was kept and how to go on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from stancewatch.articles import ArticleError
from stancewatch.outputs import ARTICLES, ERRORS, MIN_FREE_BYTES, ScoreWriter, check_writable

# Each command, with a model or input that does not exist: were the output folder checked
# after them, the error would be about those instead.
COMMANDS = {
    "score.py": ["input=/nonexistent/in.jsonl", "model_dir=/nonexistent/model"],
    "evaluate.py": ["model_dir=/nonexistent/model", "data.path=/nonexistent/data.jsonl"],
    "train.py": ["data.corpus=/nonexistent/corpus.jsonl"],
}


def _run(script: str, output_dir: Path) -> subprocess.CompletedProcess:
    key = "hydra.run.dir" if script == "train.py" else "output_dir"
    return subprocess.run([sys.executable, str(ROOT / "scripts" / script),
                           f"{key}={output_dir}", *COMMANDS[script]],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("script", sorted(COMMANDS))
def test_an_output_folder_that_cannot_be_created_is_one_line(tmp_path, script):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    done = _run(script, blocker / "out")
    assert done.returncode == 1
    assert done.stderr.strip() == (f"error: {blocker / 'out'}: cannot write the outputs there "
                                   "(Not a directory)")


@pytest.fixture()
def mount(tmp_path):
    """Mounts a tmpfs with the given options, where the system lets this process."""
    mounted: list[Path] = []

    def make(options: str) -> Path:
        point = tmp_path / f"mount{len(mounted)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs",
                               str(point)], capture_output=True, text=True)
        if done.returncode:
            pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()})")
        mounted.append(point)
        return point

    yield make
    for point in mounted:
        subprocess.run(["umount", str(point)], check=True)


def test_a_read_only_output_folder_is_one_line(tmp_path, mount):
    if os.geteuid() == 0:  # root writes into folders without write permission
        folder = mount("size=64m,ro")
        reason = "Read-only file system"
    else:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
        reason = "Permission denied"
    done = _run("score.py", folder)
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {folder}: cannot write the outputs there ({reason})"


def test_a_full_disk_fails_before_the_model_loads(mount):
    small_disk = mount("size=1m")
    with pytest.raises(OSError, match=rf"{small_disk}/out: cannot write the outputs there "
                                      rf"\(only [\d,]+ bytes free, and a run needs at least "
                                      rf"{MIN_FREE_BYTES:,}\)"):
        check_writable(small_disk / "out")
    done = _run("score.py", small_disk / "out")
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"error: {small_disk / 'out'}: cannot write the "
                                          "outputs there (only ")


def test_a_disk_that_fills_mid_run_says_what_was_kept(tmp_path):
    writer = ScoreWriter(tmp_path / "out")
    writer.error(ArticleError("in.jsonl", "empty text", 1))
    # /dev/full: every write fails with ENOSPC, as on a disk that has just filled.
    writer._files[ARTICLES].close()
    writer._files[ARTICLES] = open("/dev/full", "wb")  # noqa: SIM115 (closed by the writer)
    result = {"article_id": "a", "file": "in.jsonl", "line": 2, "flags": [], "sentences": [],
              "summary": {"n_sentences": 0}}
    with pytest.raises(OSError, match=r"articles.jsonl: cannot write \(No space left on "
                                      r"device\); the 0 articles before are complete: make "
                                      r"room, then score again with resume=true"):
        writer.write(result)
    writer.close()
    assert (tmp_path / "out" / ERRORS).read_text(encoding="utf-8").count("\n") == 1
