"""What every windowed command checks before it opens a window: a display, `--frames`, `--screenshot`, `--speed`.

Kept free of torch and pygame, so the editor, which needs neither torch nor a model, starts quickly.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from neurocar.commands.common import require_at_least
from neurocar.errors import NO_DISPLAY_HINT, NeuroCarError
from neurocar.files import check_writable


def no_display_reason(environment: dict[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can open here (None if one probably can): on Linux and the BSDs, neither DISPLAY nor
    WAYLAND_DISPLAY is set and SDL_VIDEODRIVER does not choose a driver. Windows and macOS always have one."""
    environment = os.environ if environment is None else environment
    platform = sys.platform if platform is None else platform
    if environment.get("SDL_VIDEODRIVER"):
        return None
    if platform.startswith(("win", "cygwin", "darwin")):
        return None
    if environment.get("DISPLAY") or environment.get("WAYLAND_DISPLAY"):
        return None
    return "DISPLAY and WAYLAND_DISPLAY are not set"


def check_display() -> None:
    """End at once, with the one-line error, when there is no display to open a window on."""
    reason = no_display_reason()
    if reason is not None:
        raise NeuroCarError(f"no display ({reason}); {NO_DISPLAY_HINT}")


def check_window_options(arguments: argparse.Namespace) -> float:
    """Check the display, --frames, --screenshot and --speed; returns the speed multiplier (inf = max)."""
    check_display()
    require_at_least("--frames", arguments.frames, 1)
    if arguments.screenshot is not None:
        if Path(arguments.screenshot).suffix.lower() != ".png":
            raise NeuroCarError(f"--screenshot {arguments.screenshot}: give a file name ending in .png")
        check_writable(arguments.screenshot)
    speed = getattr(arguments, "speed", None) or "1"
    return math.inf if speed == "max" else float(speed)
