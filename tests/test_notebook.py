"""notebooks/error_analysis.ipynb runs top to bottom on three real (tiny) runs."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "error_analysis.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_notebook_runs_on_three_runs(train_tiny, monkeypatch):
    runs = [train_tiny("name=tiny-a", "seed=1"),
            train_tiny("name=tiny-b", "seed=2", "trainer.lr=1e-3"),
            train_tiny("name=tiny-c", "seed=3", "model.class_weights=false")]
    # the kernel inherits this process's environment
    monkeypatch.setenv("STANCEWATCH_RUNS", ",".join(map(str, runs)))
    monkeypatch.setenv("STANCEWATCH_DATASET", "test")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # "python3" resolves to this interpreter (the venv's) in jupyter_client
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      for output in cell.get("outputs", []))
    assert all(f"{tag} = {run}" in printed for tag, run in zip("ABC", runs))
    shown = [output for cell in notebook.cells for output in cell.get("outputs", [])
             if "image/png" in output.get("data", {})]
    assert len(shown) == 5      # per-class F1, three confusion matrices, reliability
