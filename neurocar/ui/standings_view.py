"""The race panel's list of cars: place, colour, name, laps and time or status, one row each, fitted to its width;
the lap times go on a second line of each row when every row has room for one.

Names are elided with an ellipsis to the room they have, so a long model or track name never leaves the panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pygame

from neurocar.sim.race import Standing, format_time
from neurocar.ui import theme
from neurocar.ui.text_layout import fit_text
from neurocar.ui.theme import TextCache

__all__ = ["RaceEntry", "draw_standings", "fit_text"]

ROW_HEIGHT = 26
TIMES_ROW_HEIGHT = 44  # a row with the lap times on a second line, used when every row fits
STATUS_COLOURS = {
    "finished": theme.GOOD,
    "driving": theme.TEXT,
    "crashed": theme.BAD,
    "stalled": theme.BAD,
    "out of time": theme.BAD,
}


@dataclass(frozen=True)
class RaceEntry:
    """One car of a race as the window shows it: its name, colour and who drives it."""

    label: str
    colour: tuple[int, int, int]
    driver: str  # person, model or autopilot


def draw_standings(
    surface: pygame.Surface,
    rect: pygame.Rect,
    texts: TextCache,
    standings: Sequence[Standing],
    entries: Sequence[RaceEntry],
    laps: int | None,
    title: str,
    highlight: int | None = None,
) -> None:
    """The list of cars in their current order inside `rect` (rows that do not fit are summed up at the end)."""
    pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
    heading = texts.render(fit_text(texts, title, 22, rect.width - 20), 22, theme.TEXT)
    surface.blit(heading, (rect.left + 10, rect.top + 8))
    y = rect.top + 36
    with_times = 36 + TIMES_ROW_HEIGHT * len(standings) <= rect.height - 4
    row_height = TIMES_ROW_HEIGHT if with_times else ROW_HEIGHT
    for index, standing in enumerate(standings):
        if y + row_height > rect.bottom - 4 and index < len(standings):
            rest = texts.render(f"... and {len(standings) - index} more", 18, theme.TEXT_DIM)
            surface.blit(rest, (rect.left + 12, y))
            break
        entry = entries[standing.car]
        if standing.car == highlight:
            row = pygame.Rect(rect.left + 4, y - 2, rect.width - 8, row_height)
            pygame.draw.rect(surface, theme.PANEL_EDGE, row, border_radius=4)
        place = texts.render(f"{standing.place}.", 20, theme.TEXT_DIM)
        surface.blit(place, (rect.left + 34 - place.get_width(), y + 2))
        pygame.draw.rect(surface, entry.colour, (rect.left + 40, y + 4, 14, 14), border_radius=3)
        if standing.status == "finished":
            right_text = format_time(standing.finish_time_s)
        elif standing.status == "driving":
            right_text = f"lap {min(standing.laps + 1, laps)}/{laps}" if laps else f"{standing.laps} laps"
        else:
            right_text = standing.status
        right = texts.render(right_text, 18, STATUS_COLOURS.get(standing.status, theme.TEXT))
        surface.blit(right, (rect.right - 10 - right.get_width(), y + 3))
        name_left = rect.left + 62
        room = rect.right - 10 - right.get_width() - 10 - name_left
        name = fit_text(texts, entry.label, 20, room, keep_end=True)
        colour = theme.ACCENT if entry.driver == "person" else theme.TEXT
        surface.blit(texts.render(name, 20, colour), (name_left, y + 2))
        if with_times:
            times = "  ".join(f"{lap:.2f}s" for lap in standing.lap_times_s) or "no lap yet"
            times = fit_text(texts, times, 18, rect.right - 10 - name_left)
            surface.blit(texts.render(times, 18, theme.TEXT_DIM), (name_left, y + 22))
        y += row_height
