"""Sub-commands of ``python -m sync_core``, one module per command group.

Each module has ``register(subparsers)``, which adds its commands and sets ``handler`` on each; a handler returns
the exit code. ``CommandError`` carries a message meant for the user, shown without a traceback.
"""


class CommandError(Exception):
    """A problem the user can fix; its text is shown as it is, without a traceback."""
