"""Entry point for ``python -m sync_core``."""

import sys

from sync_core.cli.main import main

sys.exit(main())
