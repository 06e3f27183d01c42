"""Opening the window and saving it as a picture: the two places where the display itself can fail.

Both turn a failure into the one-line `NeuroCarError`: no display to open a window on, or a screenshot that
cannot be written. Only pygame is imported here (not torch), so the track editor starts quickly.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pygame

from neurocar.config import Config
from neurocar.errors import NO_DISPLAY_HINT, NeuroCarError
from neurocar.paths import display_path
from neurocar.ui.assets import window_icon


def open_display(config: Config) -> pygame.Surface:
    """Open the resizable NeuroCar window at the configured size and return its surface."""
    # Everything is drawn in software: SDL's native window surface (X11 shared memory) presents it ~20x
    # faster than routing it through an OpenGL texture, which matters under Xvfb and software GL.
    os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")
    try:
        pygame.display.init()
        if pygame.display.get_driver() == "offscreen" and not os.environ.get("SDL_VIDEODRIVER"):
            # SDL fell back to drawing into memory: the window would run, invisible, until killed.
            raise pygame.error("no DISPLAY or WAYLAND_DISPLAY")
        pygame.font.init()
        pygame.display.set_icon(window_icon())
        return pygame.display.set_mode((config.window.width, config.window.height), pygame.RESIZABLE)
    except pygame.error as error:
        pygame.display.quit()
        raise NeuroCarError(
            f"no display ({one_line(str(error)) or 'the window cannot open'}); {NO_DISPLAY_HINT}"
        ) from None


def one_line(text: str) -> str:
    """A library's message as one printable line."""
    return " ".join("".join(character if character.isprintable() else " " for character in text).split())


def save_png(surface: pygame.Surface, path: str | Path) -> None:
    """Write the surface as a PNG atomically (a temp file in the same folder, then a rename).

    A file that cannot be written (a vanished folder, a full disk, no permission) is a `NeuroCarError` naming it.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".png", dir=target.parent or ".")
    except OSError as error:
        raise NeuroCarError(f"--screenshot {display_path(target)}: cannot write ({error.strerror or error})") from None
    os.close(handle)
    try:
        pygame.image.save(surface, temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a screenshot is an ordinary file
        os.replace(temporary, target)
    except (OSError, pygame.error) as error:
        Path(temporary).unlink(missing_ok=True)
        reason = getattr(error, "strerror", None) or one_line(str(error))
        raise NeuroCarError(f"--screenshot {display_path(target)}: cannot write ({reason})") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
