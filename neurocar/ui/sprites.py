"""Draw NeuroCar's images with pygame: the car sprite (`car.png`) and the window icon (`icon.png`).

The shipped `assets/car.png` and `assets/icon.png` are these drawings; `python -m neurocar.ui.sprites assets`
redraws them into a folder. The car points to the right (+x, heading 0) and is drawn in
white and greys so the window can tint it with any colour by multiplication; the middle of the roof is pure white,
so a tinted car shows exactly its colour there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pygame

CAR_SIZE = (90, 40)  # pixels, the 4.5 m x 2 m car at 20 px/m
ICON_SIZE = 64


def draw_car() -> pygame.Surface:
    """The car sprite, white body with dark windows, pointing right."""
    width, height = CAR_SIZE
    car = pygame.Surface(CAR_SIZE, pygame.SRCALPHA)
    pygame.draw.rect(car, (255, 255, 255), (0, 0, width, height), border_radius=12)
    # Windows: rear window near the back, windscreen towards the front; the roof between them stays white.
    pygame.draw.rect(car, (40, 44, 52), (int(width * 0.16), 6, int(width * 0.12), height - 12), border_radius=4)
    pygame.draw.rect(car, (40, 44, 52), (int(width * 0.64), 5, int(width * 0.14), height - 10), border_radius=5)
    # Headlights and tail lights.
    for y in (4, height - 10):
        pygame.draw.rect(car, (255, 250, 210), (width - 7, y, 5, 6), border_radius=2)
        pygame.draw.rect(car, (200, 60, 60), (2, y, 4, 6), border_radius=2)
    return car


def draw_icon(car: pygame.Surface) -> pygame.Surface:
    """The window icon: a teal car on a dark tile with its three sensor rays."""
    icon = pygame.Surface((ICON_SIZE, ICON_SIZE), pygame.SRCALPHA)
    pygame.draw.rect(icon, (24, 28, 36), (0, 0, ICON_SIZE, ICON_SIZE), border_radius=14)
    origin = (20, 44)
    for end, colour in (((60, 4), (250, 200, 80)), ((58, 44), (120, 220, 160)), ((44, 62), (250, 120, 90))):
        pygame.draw.line(icon, colour, origin, end, 3)
    body = pygame.transform.rotozoom(car, 25, 0.45)
    body.fill((60, 200, 220, 255), special_flags=pygame.BLEND_RGBA_MULT)
    icon.blit(body, body.get_rect(center=origin))
    return icon


def write_images(folder: Path) -> None:
    """Write car.png and icon.png into `folder`."""
    car = draw_car()
    pygame.image.save(car, str(folder / "car.png"))
    pygame.image.save(draw_icon(car), str(folder / "icon.png"))
    print(f"wrote {folder / 'car.png'} and {folder / 'icon.png'}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        raise SystemExit("usage: python -m neurocar.ui.sprites FOLDER")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    write_images(Path(sys.argv[1]))
