"""The command line, ``python -m sync_core COMMAND``: one module per command group (``configuration``,
``syncing``, ``live``), wired into one parser by ``main``."""
