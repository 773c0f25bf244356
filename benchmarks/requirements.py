"""Print the `bench` extra of pyproject.toml, one requirement per line (for `make bench`).

    python benchmarks/requirements.py [--except NAME,...] [--only NAME,...]

`make bench` installs oso with --no-deps: oso 0.27.3 pins cffi~=1.15 while cryptography >= 46
needs cffi >= 2, so resolving both would downgrade the shared environment's cryptography;
oso runs with cffi 2 (checked by the suite's equal-answer assertion before timing).
"""

import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

text = Path(__file__).resolve().parents[1].joinpath("pyproject.toml").read_text()
if tomllib:
    reqs = tomllib.loads(text)["project"]["optional-dependencies"]["bench"]
else:
    block = re.search(r"^bench\s*=\s*\[(.*?)\]", text, re.S | re.M).group(1)
    reqs = re.findall(r'"([^"]+)"', block)


def name(req: str) -> str:
    return re.split(r"[\[<>=!~; ]", req, maxsplit=1)[0].lower()


args = sys.argv[1:]
if args[:1] == ["--except"]:
    skip = set(args[1].lower().split(","))
    reqs = [r for r in reqs if name(r) not in skip]
elif args[:1] == ["--only"]:
    keep = set(args[1].lower().split(","))
    reqs = [r for r in reqs if name(r) in keep]
print("\n".join(reqs))
