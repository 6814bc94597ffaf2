"""``python -m sklearn_pos``: the ``sklearn-pos`` command (:mod:`sklearn_pos.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
