"""The live fitness chart in the side panel: best and mean fitness per generation (or update), redrawn only when a
generation ends or the panel changes size. It is drawn by the same renderer as the PNG files written after training
(`neurocar.chart`), in the window's colours, with the first lap marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pygame

from neurocar.chart import ChartStyle, Marker, draw_line_chart
from neurocar.ui import theme
from neurocar.ui.theme import TextCache

BEST_COLOUR = theme.ACCENT
MEAN_COLOUR = theme.POSITIVE
PANEL_STYLE = ChartStyle(
    background=theme.PANEL,
    grid=(40, 44, 56),
    frame=theme.PANEL_EDGE,
    text=theme.TEXT,
    muted_text=theme.TEXT_DIM,
    marker=theme.GOOD,
    series=(BEST_COLOUR, MEAN_COLOUR),
    title_size=theme.TITLE_SIZE,
    text_size=theme.LABEL_SIZE,
    tick_size=theme.SMALL_SIZE,
    padding=10,
    line_width=2,
    corner_radius=8,
)


class FitnessChart:
    """A line chart cached as a surface; `set_history` or a new size triggers a redraw."""

    def __init__(
        self,
        texts: TextCache,
        title: str = "Fitness per generation",
        names: tuple[str, str] = ("best", "mean"),
        step_name: str = "generation",
    ) -> None:
        self.texts = texts
        self.title = title
        self.names = names
        self.step_name = step_name
        self.best: list[float] = []
        self.mean: list[float] = []
        self.markers: list[Marker] = []
        self._surface: pygame.Surface | None = None
        self._scale = 1.0

    def set_history(self, best: Sequence[float], mean: Sequence[float], markers: Sequence[Marker] = ()) -> None:
        """Replace the series (one value per generation, the first being generation 1) and the markers (such as
        `neurocar.chart.first_lap_markers` of the run's history), and mark the chart for redrawing."""
        self.best = [float(value) for value in best]
        self.mean = [float(value) for value in mean]
        self.markers = list(markers)
        self._surface = None

    def draw(self, surface: pygame.Surface, rect: pygame.Rect, scale: float = 1.0) -> bool:
        """Blit the chart, rendering it first if the data, the size or the window's text scale (1 at 1280x800)
        changed; returns True if it was rendered."""
        changed = self._surface is None or self._surface.get_size() != rect.size or scale != self._scale
        if changed:
            self._scale = scale
            self._surface = self.render(rect.size, scale).surface
        assert self._surface is not None
        surface.blit(self._surface, rect.topleft)
        return changed

    def render(self, size: tuple[int, int], scale: float = 1.0):
        """The chart drawn at `size` with text at `scale` (a `neurocar.chart.ChartDrawing`)."""
        style = PANEL_STYLE
        if scale != 1.0:
            style = replace(
                PANEL_STYLE,
                title_size=max(10, round(PANEL_STYLE.title_size * scale)),
                text_size=max(10, round(PANEL_STYLE.text_size * scale)),
                tick_size=max(10, round(PANEL_STYLE.tick_size * scale)),
                padding=max(6, round(PANEL_STYLE.padding * scale)),
            )
        series = {self.names[0]: self.best, self.names[1]: self.mean} if self.best else {}
        return draw_line_chart(
            size,
            series,
            title=self.title,
            x_label=self.step_name if size[1] >= 170 * scale else "",  # the title says it too
            y_label="",
            markers=self.markers,
            style=style,
            fonts=self.texts.font,
            empty_note=f"waiting for the first {self.step_name}...",
        )
