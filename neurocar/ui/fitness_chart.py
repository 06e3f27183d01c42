"""The live fitness chart: best and mean fitness per generation, redrawn only when a generation ends."""

from __future__ import annotations

import pygame

from neurocar.ui import theme
from neurocar.ui.theme import TextCache

BEST_COLOUR = theme.ACCENT
MEAN_COLOUR = theme.POSITIVE


class FitnessChart:
    """A small line chart cached as a surface; `set_history` or a new size triggers a redraw."""

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
        self._surface: pygame.Surface | None = None

    def set_history(self, best: list[float], mean: list[float]) -> None:
        """Replace the series (one value per generation) and mark the chart for redrawing."""
        self.best = list(best)
        self.mean = list(mean)
        self._surface = None

    def draw(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """Blit the chart, rendering it first if the data or the size changed; returns True if it was rendered."""
        changed = self._surface is None or self._surface.get_size() != rect.size
        if changed:
            self._surface = self._render(rect.size)
        surface.blit(self._surface, rect.topleft)
        return changed

    def _render(self, size: tuple[int, int]) -> pygame.Surface:
        chart = pygame.Surface(size, pygame.SRCALPHA)
        width, height = size
        pygame.draw.rect(chart, theme.PANEL, (0, 0, width, height), border_radius=8)
        chart.blit(self.texts.render(self.title, 22, theme.TEXT), (10, 8))
        legend_x = width - 10
        for name, colour in ((self.names[1], MEAN_COLOUR), (self.names[0], BEST_COLOUR)):
            label = self.texts.render(name, 18, colour)
            legend_x -= label.get_width()
            chart.blit(label, (legend_x, 11))
            legend_x -= 26
            pygame.draw.line(chart, colour, (legend_x, 18), (legend_x + 18, 18), 3)
            legend_x -= 8
        plot = pygame.Rect(46, 34, width - 58, height - 58)
        if plot.width < 20 or plot.height < 20:
            return chart
        pygame.draw.line(chart, theme.PANEL_EDGE, plot.bottomleft, plot.bottomright)
        pygame.draw.line(chart, theme.PANEL_EDGE, plot.bottomleft, plot.topleft)
        if not self.best:
            waiting = self.texts.render(f"waiting for the first {self.step_name}...", 18, theme.TEXT_DIM)
            chart.blit(waiting, waiting.get_rect(center=plot.center))
            return chart
        values = self.best + self.mean
        low, high = min(0.0, min(values)), max(values)
        if high - low < 1e-9:
            high = low + 1.0
        count = len(self.best)

        def point(index: int, value: float) -> tuple[float, float]:
            x = plot.left + (plot.width * index / (count - 1) if count > 1 else plot.width / 2)
            return (x, plot.bottom - (value - low) / (high - low) * plot.height)

        for series, colour in ((self.mean, MEAN_COLOUR), (self.best, BEST_COLOUR)):
            points = [point(index, value) for index, value in enumerate(series)]
            if len(points) > 1:
                pygame.draw.lines(chart, colour, False, points, 2)
            pygame.draw.circle(chart, colour, points[-1], 3)
        for value, y in ((high, plot.top), (low, plot.bottom)):
            label = self.texts.render(f"{value:.0f}", 16, theme.TEXT_DIM)
            chart.blit(label, (plot.left - label.get_width() - 4, y - label.get_height() // 2))
        for index in (0, count - 1):
            label = self.texts.render(str(index + 1), 16, theme.TEXT_DIM)
            x = point(index, low)[0]
            chart.blit(label, (x - label.get_width() // 2, plot.bottom + 4))
        axis = self.texts.render(self.step_name, 16, theme.TEXT_DIM)
        chart.blit(axis, (plot.centerx - axis.get_width() // 2, plot.bottom + 6))
        return chart
