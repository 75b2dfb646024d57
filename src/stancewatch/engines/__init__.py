"""Engines that score articles somewhere other than this process (``engine=`` of
``scripts/score.py``); the single-process engine is :class:`stancewatch.scoring.LocalEngine`."""
