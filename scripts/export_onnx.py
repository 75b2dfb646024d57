"""Export a transformer model to ONNX (float32 and int8) into its folder, once:
python scripts/export_onnx.py [model_dir=PATH] [force=true]

The ONNX backends also export on first use; this does it ahead of time (before a Ray job,
or as the user who owns a read-only model folder)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.inference import load_meta  # noqa: E402
from stancewatch.runtime.onnx import export_onnx  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="export_onnx")
def main(cfg: DictConfig) -> None:
    try:
        model_dir, _ = load_meta(Path(cfg.model_dir).resolve())
        record = export_onnx(model_dir, force=cfg.force)
    except (FileNotFoundError, ValueError, OSError, ImportError) as err:
        sys.exit(f"error: {err}")
    for backend, name in record["files"].items():
        print(f"{backend}: {model_dir / name}")
    print(f"exported {record['exported']} (recorded in {model_dir / 'stancewatch.json'})")


if __name__ == "__main__":
    main()
