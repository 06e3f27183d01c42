"""The one error type that reaches the user: bad input, reported as a single line by the CLI."""


class NeuroCarError(Exception):
    """Bad input (a file, an option, a value): the message says what, where, and how to fix it."""
