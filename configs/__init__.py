"""Hydra configs, shipped in the package as ``stancewatch.configs`` (see pyproject.toml)."""
