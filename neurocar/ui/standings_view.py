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
from neurocar.ui.text_layout import ELLIPSIS, fit_text, wrap_text
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


def fit_name(texts: TextCache, name: str, size: int, width: int) -> str:
    """A car's name fitted to `width` with the ellipsis in the middle, so names that differ only at the end stay
    distinct; when the room is small, the start and the end share it evenly ("evolv…eed_3", not "…lved_seed_3")."""
    fitted = fit_text(texts, name, size, width, keep_end=True)
    head = fitted.partition(ELLIPSIS)[0]
    if ELLIPSIS not in fitted or len(head) >= 4 or len(name) < 8:
        return fitted
    font = texts.font(size)
    best = fitted
    for kept in range(2, len(name)):
        start, end = (kept + 1) // 2, kept // 2
        candidate = name[:start] + ELLIPSIS + name[len(name) - end :]
        if font.size(candidate)[0] > width:
            break
        best = candidate
    return best


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
        name = fit_name(texts, entry.label, 20, room)
        colour = theme.ACCENT if entry.driver == "person" else theme.TEXT
        surface.blit(texts.render(name, 20, colour), (name_left, y + 2))
        if with_times:
            times = "  ".join(f"{lap:.2f}s" for lap in standing.lap_times_s) or "no lap yet"
            times = fit_text(texts, times, 18, rect.right - 10 - name_left)
            surface.blit(texts.render(times, 18, theme.TEXT_DIM), (name_left, y + 22))
        y += row_height


RESULT_SIZES = range(44, 17, -2)  # the results table's type, as large as the track view allows
MIN_NAME_SHARE = 0.55  # the names get at least this share of the table's width (or all they need)


def result_text(standing: Standing, laps: int | None, short: bool = False) -> str:
    """What the results table says of a car: its time if it finished, else why it stopped (and, unless `short`,
    its laps)."""
    if standing.status == "finished":
        return format_time(standing.finish_time_s)
    if laps and not short:
        return f"{standing.status}, {standing.laps}/{laps} laps"
    return standing.status


@dataclass(frozen=True)
class ResultsLayout:
    """Where the results table goes: its type size, lines and box."""

    size: int
    line: int  # height of a row [px]
    title_line: int
    heading: list[str]  # the heading after its first line, wrapped to the box
    rows: int  # rows shown (the others are summed up on one more line)
    right_texts: list[str]
    names: list[str]
    place_width: int
    swatch: int
    box: pygame.Rect


def results_layout(
    area: pygame.Rect,
    texts: TextCache,
    standings: Sequence[Standing],
    entries: Sequence[RaceEntry],
    laps: int | None,
    heading: Sequence[str],
) -> ResultsLayout:
    """The largest type at which the heading and every row fit `area`, with room for the names (see
    `draw_results`); at the smallest size, the rows that do not fit are summed up."""
    margin = theme.MARGIN
    room = area.width - 4 * margin
    inner = room - 2 * margin
    layout = None
    for size in RESULT_SIZES:
        font = texts.font(size)
        line = font.get_linesize() + 4
        title_line = texts.font(size + 10).get_linesize() + 4
        wrapped = [part for text in heading[1:] for part in wrap_text(texts, text, size, inner, max_lines=2)]
        place_width = font.size(f"{len(standings)}.")[0]
        swatch = max(10, line * 3 // 5)
        full_names = max((font.size(entries[standing.car].label)[0] for standing in standings), default=0)
        for short in (False, True):
            right_texts = [result_text(standing, laps, short) for standing in standings]
            right_width = max((font.size(text)[0] for text in right_texts), default=0)
            name_room = inner - place_width - swatch - right_width - 3 * margin
            if name_room >= min(full_names, MIN_NAME_SHARE * inner):
                break
        room_height = area.height - 2 * margin - 3 * margin - title_line - line * len(wrapped)
        rows = max(0, min(len(standings), room_height // line))
        if rows < len(standings):
            rows = max(0, rows - 1)  # one line says how many more there are
        fits = rows == len(standings) and name_room >= min(full_names, MIN_NAME_SHARE * inner)
        names = [fit_name(texts, entries[standing.car].label, size, max(0, name_room)) for standing in standings]
        widest_name = max((font.size(name)[0] for name in names[:rows]), default=0)
        table_width = place_width + swatch + widest_name + right_width + 3 * margin + 2 * margin
        heading_width = (
            max(
                [texts.font(size + 10).size(fit_text(texts, heading[0], size + 10, inner))[0] if heading else 0]
                + [font.size(text)[0] for text in wrapped]
            )
            + 2 * margin
        )
        width = min(room, max(table_width, heading_width))
        height = title_line + line * (len(wrapped) + rows + (rows < len(standings))) + 3 * margin
        box = pygame.Rect(0, 0, width, height)
        box.center = area.center
        layout = ResultsLayout(size, line, title_line, wrapped, rows, right_texts, names, place_width, swatch, box)
        if fits:
            break
    assert layout is not None
    return layout


def draw_results(
    surface: pygame.Surface,
    area: pygame.Rect,
    texts: TextCache,
    standings: Sequence[Standing],
    entries: Sequence[RaceEntry],
    laps: int | None,
    heading: Sequence[str],
    highlight: int | None = None,
) -> pygame.Rect:
    """The finishing order in large type in a box centred in `area` (the track view), readable across a room:
    the `heading` lines, then one row per car (place, colour, name, time or status). The type is the largest at
    which every row fits with room for the names; rows that still do not fit are summed up. Returns the box."""
    margin = theme.MARGIN
    layout = results_layout(area, texts, standings, entries, laps, heading)
    size, line, box = layout.size, layout.line, layout.box
    pygame.draw.rect(surface, theme.PANEL, box, border_radius=12)
    pygame.draw.rect(surface, theme.ACCENT, box, 2, border_radius=12)
    y = box.top + margin
    if heading:
        title = texts.render(fit_text(texts, heading[0], size + 10, box.width - 2 * margin), size + 10, theme.ACCENT)
        surface.blit(title, title.get_rect(midtop=(box.centerx, y)))
        y += layout.title_line
    for text in layout.heading:
        item = texts.render(text, size, theme.TEXT)
        surface.blit(item, item.get_rect(midtop=(box.centerx, y)))
        y += line
    y += margin // 2
    pygame.draw.line(surface, theme.PANEL_EDGE, (box.left + margin, y), (box.right - margin, y))
    y += margin // 2
    left = box.left + margin
    swatch = layout.swatch
    for index in range(layout.rows):
        standing = standings[index]
        entry = entries[standing.car]
        if standing.car == highlight:
            pygame.draw.rect(surface, theme.PANEL_EDGE, (box.left + 4, y - 2, box.width - 8, line), border_radius=6)
        place = texts.render(f"{standing.place}.", size, theme.TEXT_DIM)
        surface.blit(place, (left + layout.place_width - place.get_width(), y))
        swatch_left = left + layout.place_width + margin
        pygame.draw.rect(
            surface, entry.colour, (swatch_left, y + (line - 4 - swatch) // 2, swatch, swatch), border_radius=4
        )
        name_colour = theme.ACCENT if standing.car == highlight else theme.TEXT
        surface.blit(texts.render(layout.names[index], size, name_colour), (swatch_left + swatch + margin, y))
        colour = theme.TEXT if standing.status == "finished" else theme.BAD
        right = texts.render(layout.right_texts[index], size, colour)
        surface.blit(right, (box.right - margin - right.get_width(), y))
        y += line
    if layout.rows < len(standings):
        more = fit_text(
            texts, f"... and {len(standings) - layout.rows} more (see the panel)", size, box.width - 2 * margin
        )
        item = texts.render(more, size, theme.TEXT_DIM)
        surface.blit(item, item.get_rect(midtop=(box.centerx, y)))
    return box
