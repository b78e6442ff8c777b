"""Runs the benchmarks and prints their figures as Markdown rows for docs/benchmarks.md.

Each `bench_*.py` module has `run(quick: bool) -> list[str]`, returning result lines. Figures
are medians over repeats, with a baseline measured in the same process.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import sys
from pathlib import Path


def main() -> int:
    """Run the named benchmarks (default: all)."""
    here = Path(__file__).parent
    names = sorted(m.name[6:] for m in pkgutil.iter_modules([str(here)])
                   if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*names, []], metavar="NAME",
                        help=f"one of: {', '.join(names)}")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke test)")
    args = parser.parse_args()
    print(f"# python {platform.python_version()} on {platform.machine()}, "
          f"{platform.system()}")
    for name in args.names or names:
        mod = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"\n## {name}")
        for line in mod.run(quick=args.quick):
            print(line)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
