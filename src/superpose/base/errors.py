"""The one exception type users see: a message that fits on one line."""


class SuperposeError(Exception):
    """Bad input or an impossible request, explained in one line (the CLI prints it, no traceback)."""
