"""``python -m warden``: the warden command line."""

import sys

from warden.cli import main

if __name__ == "__main__":
    sys.exit(main())
