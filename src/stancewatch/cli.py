"""The ``stancewatch`` command: ``stancewatch score|train|evaluate|compare [key=value ...]``.

Each subcommand runs the same function as its script (``scripts/score.py`` ...) under
Hydra, with the configs shipped in the package (``stancewatch.configs``), so that an
installed stancewatch works from any folder. Paths in overrides are relative to the
current folder; default locations (``outputs/``, ``models/``, ``data/``) are under the
project root: the source checkout stancewatch is installed from (an editable install),
else the current folder, unless ``PROJECT_ROOT`` says otherwise.
"""

from __future__ import annotations

import os
import re
import sys
from importlib.resources import files
from pathlib import Path

CONFIG_PACKAGE = "stancewatch.configs"
HELP_FLAGS = ("-h", "--help")
EXAMPLES = """\
examples:
  stancewatch score input=news.jsonl output_dir=out
  stancewatch score input=articles/ model_dir=outputs/runs/RUN/model format=csv
  stancewatch train experiment=context seed=2
  stancewatch train -m seed=1,2,3
  stancewatch evaluate model_dir=models/default data.path=labelled.jsonl
  stancewatch compare a=outputs/runs/RUN_A b=outputs/runs/RUN_B"""
_LINE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_]\w*):(?P<value>[^#]*?)\s*"
                   r"(?:#\s?(?P<comment>.*))?$")
_GROUP = re.compile(r"^\s*-\s+(?:optional\s+)?(?P<group>[\w/]+):\s*(?P<choice>\S+)")


def project_root() -> Path:
    """The source checkout the package runs from, else the current folder."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "configs").is_dir():
        return checkout
    return Path.cwd()


def config_keys(text: str) -> list[tuple[str, str, str]]:
    """``(dotted key, default, comment)`` for the keys a primary config sets itself
    (one level of nesting; ``defaults`` and ``hydra`` left out), from its YAML text."""
    keys: list[tuple[str, str, str]] = []
    parent, skip = None, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and keys and line.startswith(" "):
            keys[-1] = (*keys[-1][:2], f"{keys[-1][2]} {stripped.lstrip('# ')}".strip())
            continue
        match = _LINE.match(line)
        if not match:
            continue
        key, value = match["key"], match["value"].strip()
        comment = (match["comment"] or "").strip()
        if not match["indent"]:
            skip = key in ("defaults", "hydra")
            parent = key if not value else None
            if value and not skip:
                keys.append((key, value, comment))
        elif parent and not skip and len(match["indent"]) == 2:
            keys.append((f"{parent}.{key}", value, comment))
    return keys


def config_groups(text: str) -> list[tuple[str, str, list[str]]]:
    """``(group, default choice, all choices)`` for the groups a primary config's
    defaults list picks (Hydra's own left out)."""
    groups, in_defaults = [], False
    for line in text.splitlines():
        if not line.startswith((" ", "#")):
            in_defaults = line.startswith("defaults:")
            continue
        match = _GROUP.match(line) if in_defaults else None
        if match and match["group"] not in ("override", "hydra", "_self_"):
            folder = files(CONFIG_PACKAGE).joinpath(match["group"])
            choices = sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                             if p.name.endswith(".yaml"))
            groups.append((match["group"], match["choice"], choices))
    return groups


def _config_text(name: str) -> str:
    return files(CONFIG_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")


def command_help(command: str) -> str:
    """``stancewatch COMMAND --help``: what it does, its keys and its config groups."""
    from .commands import COMMANDS

    _, config, summary = COMMANDS[command]
    text = _config_text(config)
    lines = [f"usage: stancewatch {command} [key=value ...] [group=option ...]", "",
             f"{command}: {summary}.", "", "keys (key=value; defaults shown):"]
    keys = config_keys(text)
    width = max(len(k) for k, _, _ in keys)
    lines += [f"  {key:<{width}}  {value}" + (" (required)" if value == "???" else "")
              + (f"   # {comment}" if comment else "")
              for key, value, comment in keys]
    groups = config_groups(text)
    if groups:
        lines += ["", "config groups (group=option; group.key=value for one setting):"]
        lines += [f"  {group:<{width}}  {', '.join(choices)}  "
                  f"(default: {'none' if choice == 'null' else choice})"
                  for group, choice, choices in groups]
    lines += ["", "Hydra: --cfg job prints the composed config, -m runs a sweep "
              "(key=a,b,c), --hydra-help lists Hydra's own options."]
    return "\n".join(lines)


def usage() -> str:
    """``stancewatch --help``: the subcommands and their main keys."""
    from .commands import COMMANDS

    lines = ["usage: stancewatch COMMAND [key=value ...] [group=option ...] [--help]", "",
             "Label every sentence of news articles hostile, conditional or neutral.", "",
             "commands:"]
    for name, (_, config, summary) in COMMANDS.items():
        text = _config_text(config)
        main_keys = [*(f"{g}=" for g, _, _ in config_groups(text) if g != "paths"),
                     *(k for k, _, _ in config_keys(text) if k != "verbose")][:7]
        lines.append(f"  {name:<9} {summary}")
        lines.append(f"  {'':<9} {', '.join(main_keys)}, ...")
    lines += ["", "Every command takes verbose=true (the libraries' logs and warnings too);",
              "`stancewatch COMMAND --help` lists all its keys and config groups.", "",
              EXAMPLES]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``stancewatch`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in (*HELP_FLAGS, "help"):
        print(usage())
        return
    from .commands import COMMANDS

    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        sys.exit(f"error: unknown command {command!r}; choose one of {', '.join(COMMANDS)} "
                 "(stancewatch --help)")
    if any(arg in HELP_FLAGS for arg in rest):
        print(command_help(command))
        return
    import hydra

    os.environ.setdefault("PROJECT_ROOT", str(project_root()))
    function, config, _ = COMMANDS[command]
    # Hydra reads its overrides from sys.argv.
    sys.argv = [f"stancewatch {command}", *rest]
    hydra.main(version_base="1.3", config_path=f"pkg://{CONFIG_PACKAGE}",
               config_name=config)(function)()
