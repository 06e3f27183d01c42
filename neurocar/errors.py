"""The one error type that reaches the user: bad input, reported as a single line by the CLI."""


class NeuroCarError(Exception):
    """Bad input (a file, an option, a value): the message says what, where, and how to fix it."""


# How to run a windowed command where no window can open; part of every "no display" error.
NO_DISPLAY_HINT = (
    "run it on a desktop, or set SDL_VIDEODRIVER=dummy to run without a window "
    "(with --frames N --screenshot FILE.png for a picture)"
)
