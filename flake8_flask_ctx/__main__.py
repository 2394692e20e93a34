"""``python -m flake8_flask_ctx``: the ``flask-ctx`` command where no script is on PATH."""

import sys

from .cli import main

if __name__ == "__main__":  # the guard also keeps process-pool workers from re-running main
    sys.exit(main())
