"""``python -m viewgen``: see viewgen/cli.py."""

import sys

from viewgen.cli import main

sys.exit(main())
