"""The lesson's drawing: one function per chapter, each only reading the `Lesson` model.

Every size comes from the window's size (`Layout`): at 1280x800 the body text is 34 px and the titles 56 px, big
enough for the back of a classroom, and everything shrinks together in a smaller window. Paragraphs wrap to their
column; a one-line text that is still too wide is drawn smaller rather than over its neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pygame

from neurocar.learn.lesson import CHAPTERS, Lesson, layer_product, parameter_formula, sequential_line
from neurocar.learn.lesson_neuron import behaviour, step_factor, thresholds
from neurocar.lesson_text import LessonText
from neurocar.ui import theme
from neurocar.ui.camera import Camera
from neurocar.ui.network_view import NetworkView, network_snapshot
from neurocar.ui.theme import TextCache
from neurocar.ui.track_view import CarSprites, draw_cars, draw_rays, render_track

BASE_WIDTH, BASE_HEIGHT = 1280, 800
PLOT_STEPS = 60  # the plot shows at least this many steps, and at most the last `MAX_PLOT_STEPS`
MAX_PLOT_STEPS = 300


def number(value: float, digits: int = 2) -> str:
    """A number as the lesson prints it: fixed digits, a real minus sign, big values in powers of ten."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞"
    text = f"{value:.{digits}e}" if abs(value) >= 1e5 else f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", "−")


def weighted_sum(weights: list[float], values: list[float], bias: float) -> str:
    """'0.50·0.21 − 0.30·1.00 + 0.10': each weight times its input, then the bias, with signs written once."""
    text = ""
    for index, (weight, value) in enumerate(zip([*weights, bias], [*values, None], strict=True)):
        term = number(abs(weight)) + ("" if value is None else f"·{number(value)}")
        negative = number(weight).startswith("−")
        if index == 0:
            text = f"−{term}" if negative else term
        else:
            text += f" − {term}" if negative else f" + {term}"
    return text


@dataclass(frozen=True)
class Layout:
    """Where things go for one window size."""

    width: int
    height: int

    @property
    def scale(self) -> float:
        """1 at 1280x800; smaller windows draw everything smaller."""
        return max(0.45, min(self.width / BASE_WIDTH, self.height / BASE_HEIGHT))

    def size(self, base: int, smallest: int = 14) -> int:
        """A font size: `base` px at 1280x800, scaled, never below `smallest`."""
        return max(smallest, round(base * self.scale))

    @property
    def margin(self) -> int:
        return max(8, round(24 * self.scale))

    @property
    def title_rect(self) -> pygame.Rect:
        return pygame.Rect(0, 0, self.width, self.size(56) + 2 * self.margin)

    @property
    def footer_rect(self) -> pygame.Rect:
        height = self.size(26) + self.margin
        return pygame.Rect(0, self.height - height, self.width, height)

    @property
    def content_rect(self) -> pygame.Rect:
        top = self.title_rect.bottom
        return pygame.Rect(
            self.margin, top, self.width - 2 * self.margin, self.footer_rect.top - top - self.margin // 2
        )

    @property
    def text_rect(self) -> pygame.Rect:
        """The left column: the chapter's words and keys."""
        content = self.content_rect
        return pygame.Rect(content.left, content.top, round(content.width * 0.42), content.height)

    @property
    def visual_rect(self) -> pygame.Rect:
        """The right side: the chapter's live picture."""
        content = self.content_rect
        left = self.text_rect.right + self.margin
        return pygame.Rect(left, content.top, content.right - left, content.height)


def wrap(font: pygame.font.Font, text: str, width: int) -> list[str]:
    """Split a paragraph into lines no wider than `width` (a single long word stays on its own line)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and font.size(candidate)[0] > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


class LessonView:
    """Draws the lesson window from a `Lesson` and its texts; caches what is slow to draw."""

    def __init__(self, texts: TextCache, words: LessonText, lesson: Lesson, recordings: str = "recordings") -> None:
        self.texts = texts
        self.recordings = recordings
        self.words = words
        self.lesson = lesson
        car = lesson.car
        self.network_view = NetworkView(texts, car.config.sensors.angles_deg)
        slots = car.slots
        labels = ["", "", ""]
        labels[slots.left], labels[slots.ahead], labels[slots.right] = (
            words.get("sensors.left"),
            words.get("sensors.ahead"),
            words.get("sensors.right"),
        )
        self.sensor_labels = [  # the same names as every window: "left 45°", "ahead", "right 45°" (translated)
            label if abs(angle) < 1e-9 else f"{label} {abs(angle):g}°"
            for label, angle in zip(labels, car.config.sensors.angles_deg, strict=True)
        ]
        self.network_view.input_labels = self.sensor_labels
        self.action_labels = [words.get("actions.left"), words.get("actions.straight"), words.get("actions.right")]
        self.network_view.output_labels = self.action_labels
        self._track_cache: dict[tuple[int, int, int, int], tuple[pygame.Surface, Camera, CarSprites]] = {}
        self._map_cache: dict[tuple[int, int, bytes], pygame.Surface] = {}
        self.drawn: dict[str, object] = {}  # what the last frame showed, for tests

    # --- text helpers ------------------------------------------------------------------------------------------

    def fit(self, text: str, size: int, colour: tuple[int, int, int], width: int, smallest: int = 12) -> pygame.Surface:
        """`text` on one line at `size`, or smaller if it would be wider than `width`."""
        surface = self.texts.render(text, size, colour)
        if surface.get_width() <= width or size <= smallest:
            return surface
        smaller = max(smallest, int(size * width / surface.get_width()))
        self.drawn.setdefault("shrunk", []).append((text, size, smaller))  # what did not fit at its size
        return self.texts.render(text, smaller, colour)

    def paragraphs(
        self,
        surface: pygame.Surface,
        lines: list[str],
        size: int,
        colour: tuple[int, int, int],
        x: int,
        y: int,
        width: int,
        gap: float = 0.35,
    ) -> int:
        """Draw wrapped paragraphs from (x, y); returns the y below them."""
        font = self.texts.font(size)
        for paragraph in lines:
            for line in wrap(font, paragraph, width):
                text = self.fit(line, size, colour, width)
                surface.blit(text, (x, y))
                y += round(font.get_linesize() * 1.05)
            y += round(font.get_linesize() * gap)
        return y

    def key_hints(self, surface: pygame.Surface, layout: Layout, keys: list[str]) -> None:
        """The chapter's keys at the bottom of the text column, in the accent colour."""
        area = layout.text_rect
        size = layout.size(32)
        height = round(self.texts.font(size).get_linesize() * 1.15)
        y = area.bottom - height * len(keys)
        for key in keys:
            surface.blit(self.fit(key, size, theme.ACCENT, area.width), (area.left, y))
            y += height

    # --- the frame ---------------------------------------------------------------------------------------------

    def draw(self, surface: pygame.Surface) -> None:
        """The whole window: title bar, the chapter, the footer."""
        layout = Layout(*surface.get_size())
        surface.fill(theme.BACKGROUND)
        lesson = self.lesson
        name = lesson.chapter_name
        self.drawn = {"chapter": lesson.chapter, "title": self.words.get(f"{name}.title"), "shrunk": []}
        self.draw_title(surface, layout)
        getattr(self, f"draw_{name}")(surface, layout)
        footer = layout.footer_rect
        pygame.draw.line(surface, theme.PANEL_EDGE, footer.topleft, footer.topright)
        text = self.fit(
            self.words.get("window.footer"), layout.size(26), theme.TEXT_DIM, footer.width - 2 * layout.margin
        )
        surface.blit(text, (layout.margin, footer.centery - text.get_height() // 2))

    def draw_title(self, surface: pygame.Surface, layout: Layout) -> None:
        rect = layout.title_rect
        pygame.draw.rect(surface, theme.PANEL, rect)
        pygame.draw.line(surface, theme.PANEL_EDGE, rect.bottomleft, rect.bottomright)
        count = len(CHAPTERS)
        chapter = self.words.get("window.chapter", number=self.lesson.chapter, count=count)
        chapter_text = self.texts.render(chapter, layout.size(34), theme.TEXT_DIM)
        # one dot per chapter, the current one lit
        dot = max(4, round(7 * layout.scale))
        dots_width = count * dot * 3
        right = rect.right - layout.margin
        for index in range(count):
            centre = (right - dots_width + index * dot * 3 + dot, rect.centery + chapter_text.get_height() // 2 + dot)
            colour = theme.ACCENT if index + 1 == self.lesson.chapter else theme.PANEL_EDGE
            pygame.draw.circle(surface, colour, centre, dot)
        surface.blit(chapter_text, (right - chapter_text.get_width(), rect.centery - chapter_text.get_height()))
        title_width = rect.width - 3 * layout.margin - max(dots_width, chapter_text.get_width())
        title = self.fit(self.drawn["title"], layout.size(56), theme.TEXT, title_width)
        surface.blit(title, (layout.margin, rect.centery - title.get_height() // 2))

    # --- shared pictures ---------------------------------------------------------------------------------------

    def draw_car(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """The track with the lesson's car and its rays, fitted into `rect`."""
        car = self.lesson.car
        key = (rect.left, rect.top, rect.width, rect.height)
        if key not in self._track_cache:
            track = car.track
            walls = np.concatenate([track.left_wall, track.right_wall])
            camera = Camera.fit(walls, key)
            picture = render_track(track, camera, surface.get_size())
            sprites = CarSprites(car.config.physics.car_length_m, car.config.physics.car_width_m, camera.scale)
            self._track_cache = {key: (picture, camera, sprites)}
        picture, camera, sprites = self._track_cache[key]
        surface.blit(picture, rect, area=rect)
        state = car.world.state
        angles = np.asarray(car.config.sensors.angles_rad)
        draw_rays(
            surface,
            camera,
            state.positions,
            state.headings,
            car.world.observations,
            angles,
            car.config.sensors.range_m,
            True,
        )
        draw_cars(surface, sprites, camera, state.positions, state.headings, theme.CAR)

    def decision_surface(self, winners: np.ndarray, size: int) -> pygame.Surface:
        """A decision map (winning action per cell, row 0 on top) as a square picture."""
        key = (size, winners.shape[0], winners.tobytes())
        if key not in self._map_cache:
            if len(self._map_cache) > 16:
                self._map_cache.clear()
            colours = np.asarray(theme.ACTION_COLOURS, dtype=np.uint8)[winners]
            picture = pygame.surfarray.make_surface(np.ascontiguousarray(colours.transpose(1, 0, 2)))
            self._map_cache[key] = pygame.transform.scale(picture, (size, size))
        return self._map_cache[key]

    def draw_map(
        self,
        surface: pygame.Surface,
        winners: np.ndarray,
        rect: pygame.Rect,
        title: str,
        layout: Layout,
        marker: tuple[float, float] | None = None,
    ) -> pygame.Rect:
        """A decision map with its title above and axis names (left reading across, right reading up)."""
        size = layout.size(24)
        title_text = self.fit(title, layout.size(28), theme.TEXT, rect.width)
        surface.blit(title_text, (rect.centerx - title_text.get_width() // 2, rect.top))
        axis = self.texts.font(size).get_linesize()
        side = max(20, min(rect.width - axis - 4, rect.height - title_text.get_height() - 2 * axis - 8))
        square = pygame.Rect(0, 0, side, side)
        square.midtop = (rect.centerx + axis // 2, rect.top + title_text.get_height() + 6)
        surface.blit(self.decision_surface(winners, side), square)
        pygame.draw.rect(surface, theme.PANEL_EDGE, square, 1)
        left_name = self.fit(self.words.get("nonlinear.axis_left"), size, theme.TEXT_DIM, side)
        surface.blit(left_name, (square.centerx - left_name.get_width() // 2, square.bottom + 4))
        right_name = pygame.transform.rotate(
            self.fit(self.words.get("nonlinear.axis_right"), size, theme.TEXT_DIM, side), 90
        )
        surface.blit(
            right_name, (square.left - right_name.get_width() - 4, square.centery - right_name.get_height() // 2)
        )
        for label, corner in (("0", square.bottomleft), ("1", square.bottomright)):
            text = self.texts.render(label, layout.size(20), theme.TEXT_DIM)
            surface.blit(text, (corner[0] - text.get_width() // 2, corner[1] + 4))
        if marker is not None:
            centre = (square.left + marker[0] * side, square.bottom - marker[1] * side)
            pygame.draw.circle(surface, theme.BACKGROUND, centre, max(5, round(9 * layout.scale)))
            pygame.draw.circle(surface, theme.ACCENT, centre, max(5, round(9 * layout.scale)), 3)
        return square

    def draw_legend(self, surface: pygame.Surface, layout: Layout, x: int, y: int, width: int) -> int:
        """The three action colours in a row; returns the y below."""
        size = layout.size(26)
        box = max(10, round(20 * layout.scale))
        column = width // 3
        for index, (label, colour) in enumerate(zip(self.action_labels, theme.ACTION_COLOURS, strict=True)):
            left = x + index * column
            pygame.draw.rect(surface, colour, (left, y + 2, box, box), border_radius=3)
            surface.blit(self.fit(label, size, theme.TEXT, column - box - 12), (left + box + 8, y))
        return y + self.texts.font(size).get_linesize()

    def bracketed(
        self,
        surface: pygame.Surface,
        x: int,
        top: int,
        columns: list[list[str]],
        size: int,
        colour: tuple[int, int, int] = theme.TEXT,
        highlight: int | None = None,
        column_gap: int = 14,
    ) -> pygame.Rect:
        """Numbers in columns between square brackets; returns the rectangle it took."""
        font = self.texts.font(size)
        rows = len(columns[0])
        line = round(font.get_linesize() * 1.1)
        widths = [max(font.size(cell)[0] for cell in column) for column in columns]
        width = sum(widths) + column_gap * (len(columns) - 1) + 16
        rect = pygame.Rect(x, top, width, line * rows + 6)
        if highlight is not None:
            band = pygame.Rect(x, top + 3 + highlight * line, width, line)
            pygame.draw.rect(surface, theme.PANEL_EDGE, band, border_radius=4)
        left = x + 8
        for column, column_width in zip(columns, widths, strict=True):
            for row, cell in enumerate(column):
                text = self.texts.render(cell, size, theme.ACCENT if row == highlight else colour)
                surface.blit(
                    text,
                    (left + column_width - text.get_width(), top + 3 + row * line + (line - text.get_height()) // 2),
                )
            left += column_width + column_gap
        for side in (rect.left, rect.right):
            tick = 6 if side == rect.left else -6
            pygame.draw.lines(
                surface,
                theme.TEXT_DIM,
                False,
                [(side + tick, rect.top), (side, rect.top), (side, rect.bottom), (side + tick, rect.bottom)],
                2,
            )
        return rect

    def operator(self, surface: pygame.Surface, text: str, x: int, centre_y: int, size: int) -> int:
        """An operator (·, +, =) vertically centred; returns the x after it."""
        rendered = self.texts.render(text, size, theme.TEXT_DIM)
        surface.blit(rendered, (x + 8, centre_y - rendered.get_height() // 2))
        return x + rendered.get_width() + 16

    # --- chapter 1: one neuron ---------------------------------------------------------------------------------

    def draw_neuron(self, surface: pygame.Surface, layout: Layout) -> None:
        lesson = self.lesson
        neuron = lesson.neuron
        words = self.words
        area = layout.text_rect
        size = layout.size(34)
        y = self.paragraphs(
            surface,
            words.lines("neuron.body", x=number(neuron.x, 0), target=number(neuron.target, 1)),
            size,
            theme.TEXT,
            area.left,
            area.top + layout.margin,
            area.width,
        )
        rate = neuron.learning_rate
        overshoot, diverge = thresholds(neuron.x)
        rate_text = words.get("neuron.rate", rate=f"{rate:.4g}")
        surface.blit(self.fit(rate_text, layout.size(38), theme.ACCENT, area.width), (area.left, y))
        y += self.texts.font(layout.size(38)).get_linesize() + layout.margin // 2
        kind = behaviour(neuron.x, rate)
        factor = step_factor(neuron.x, rate)
        if kind == "converges" and factor == 0:
            kind = "lands"
        colour = {"converges": theme.GOOD, "lands": theme.GOOD, "oscillates": theme.ACCENT}.get(kind, theme.BAD)
        message = words.get(f"neuron.{kind}", overshoot=f"{overshoot:.3g}", diverge=f"{diverge:.3g}")
        y = self.paragraphs(surface, [message], layout.size(30), colour, area.left, y, area.width)
        self.paragraphs(surface, [words.get("neuron.why")], layout.size(28), theme.TEXT_DIM, area.left, y, area.width)
        self.drawn.update({"behaviour": kind, "rate": rate, "steps": len(neuron.history) - 1, "message": message})
        self.key_hints(
            surface, layout, [words.get("neuron.key_step"), words.get("neuron.key_rate"), words.get("neuron.key_reset")]
        )

        visual = layout.visual_rect
        last = neuron.history[-1]
        state = words.get(
            "neuron.state",
            step=last.step,
            weight=number(last.weight, 4),
            output=number(last.output, 4),
            error=number(last.error, 4),
        )
        state_text = self.fit(state, layout.size(32), theme.TEXT, visual.width)
        surface.blit(state_text, (visual.left, visual.top + layout.margin))
        top = visual.top + layout.margin + state_text.get_height() + layout.margin
        gap = layout.margin
        height = (visual.bottom - top - gap) // 2
        outputs = [row.output for row in neuron.history]
        errors = [row.error for row in neuron.history]
        self.plot(
            surface,
            pygame.Rect(visual.left, top, visual.width, height),
            outputs,
            neuron.target,
            words.get("neuron.plot_output"),
            words.get("neuron.plot_target"),
            theme.POSITIVE,
            layout,
        )
        self.plot(
            surface,
            pygame.Rect(visual.left, top + height + gap, visual.width, height),
            errors,
            0.0,
            words.get("neuron.plot_error"),
            "0",
            theme.NEGATIVE,
            layout,
            x_label=words.get("neuron.plot_steps"),
        )
        if neuron.blown_up:
            warning = self.fit(words.get("neuron.blown_up"), layout.size(34), theme.BAD, visual.width - 20)
            box = warning.get_rect(center=(visual.centerx, top + height + gap // 2)).inflate(24, 14)
            pygame.draw.rect(surface, theme.PANEL, box, border_radius=8)
            pygame.draw.rect(surface, theme.BAD, box, 2, border_radius=8)
            surface.blit(warning, warning.get_rect(center=box.center))
        self.drawn["state"] = state

    def plot(
        self,
        surface: pygame.Surface,
        rect: pygame.Rect,
        values: list[float],
        reference: float,
        name: str,
        reference_name: str,
        colour: tuple[int, int, int],
        layout: Layout,
        x_label: str | None = None,
    ) -> None:
        """A line of values over the steps with a dashed reference line (the target, or zero)."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        label_size = layout.size(24)
        name_text = self.texts.render(name, layout.size(30), colour)
        surface.blit(name_text, (rect.left + 10, rect.top + 6))
        inner = pygame.Rect(rect.left + 70 * layout.scale + 10, rect.top + name_text.get_height() + 10, 0, 0)
        inner.width = rect.right - 14 - inner.left
        inner.height = rect.bottom - (label_size + 12 if x_label else 12) - inner.top
        if inner.width < 20 or inner.height < 20:
            return
        shown = values[-MAX_PLOT_STEPS:]
        first_step = len(values) - len(shown)
        finite = [value for value in shown if math.isfinite(value)]
        low = min([reference, *finite])
        high = max([reference, *finite])
        if high - low < 1e-9:
            low, high = low - 1, high + 1
        padding = (high - low) * 0.08
        low, high = low - padding, high + padding
        span = max(PLOT_STEPS, len(shown) - 1)

        def to_screen(index: int, value: float) -> tuple[float, float]:
            x = inner.left + inner.width * index / span
            y = inner.bottom - inner.height * (min(high, max(low, value)) - low) / (high - low)
            return x, y

        reference_y = to_screen(0, reference)[1]
        for start in range(inner.left, inner.right, 16):
            pygame.draw.line(surface, theme.TEXT_DIM, (start, reference_y), (min(start + 8, inner.right), reference_y))
        ref_text = self.texts.render(reference_name, label_size, theme.TEXT_DIM)
        surface.blit(ref_text, (inner.right - ref_text.get_width(), reference_y - ref_text.get_height() - 2))
        for value, anchor in ((high - padding, inner.top), (low + padding, inner.bottom)):
            text = self.texts.render(number(value, 2), label_size, theme.TEXT_DIM)
            y = to_screen(0, value)[1]
            surface.blit(
                text, (inner.left - text.get_width() - 8, min(max(y - text.get_height() // 2, rect.top), anchor))
            )
        points = [to_screen(index, value) for index, value in enumerate(shown) if math.isfinite(value)]
        if len(points) > 1:
            pygame.draw.lines(surface, colour, False, points, max(2, round(3 * layout.scale)))
        radius = max(3, round(5 * layout.scale)) if len(points) < 120 else 2
        for point in points:
            pygame.draw.circle(surface, colour, point, radius)
        if x_label:
            text = self.texts.render(
                f"{x_label}: {first_step} … {first_step + len(shown) - 1}", label_size, theme.TEXT_DIM
            )
            surface.blit(text, (inner.left, inner.bottom + 4))

    # --- chapter 2: several inputs -----------------------------------------------------------------------------

    def draw_inputs(self, surface: pygame.Surface, layout: Layout) -> None:
        lesson = self.lesson
        words = self.words
        area = layout.text_rect
        self.paragraphs(
            surface,
            words.lines("inputs.body"),
            layout.size(34),
            theme.TEXT,
            area.left,
            area.top + layout.margin,
            area.width,
        )
        self.key_hints(
            surface,
            layout,
            [words.get("inputs.key_choose"), words.get("inputs.key_nudge"), words.get("inputs.key_drive")],
        )
        visual = layout.visual_rect
        car_rect = pygame.Rect(visual.left, visual.top + layout.margin // 2, visual.width, round(visual.height * 0.36))
        self.draw_car(surface, car_rect)
        readings = lesson.car.readings
        neuron = lesson.weighted_sum
        parameters = neuron.parameters
        output = neuron.output(readings)
        top = car_rect.bottom + layout.margin
        diagram = pygame.Rect(visual.left, top, visual.width, visual.bottom - top)
        size = layout.size(32)
        line = self.texts.font(size).get_linesize()
        equation_height = 2 * line + layout.margin
        graph = pygame.Rect(diagram.left, diagram.top, diagram.width, diagram.height - equation_height)
        radius = max(12, round(26 * layout.scale))
        inputs_x = graph.left + round(graph.width * 0.30)
        output_x = graph.left + round(graph.width * 0.78)
        rows = [graph.top + graph.height * (index + 0.5) / 4 for index in range(4)]
        output_centre = (output_x, graph.centery)
        names = [*self.sensor_labels, words.get("inputs.bias")]
        values = [*readings.tolist(), 1.0]
        order = neuron.order  # the car's leftmost ray at the top, the bias last; x1 is the top one
        for position, index in enumerate(order):
            name, value, weight = names[index], values[index], parameters[index]
            centre = (inputs_x, rows[position])
            chosen = index == neuron.chosen
            width = max(1, round(min(10, 2 + 4 * abs(weight)) * layout.scale))
            pygame.draw.line(surface, theme.POSITIVE if weight >= 0 else theme.NEGATIVE, centre, output_centre, width)
            weight_name = words.get("inputs.weight", number=position + 1) if index < 3 else "b"
            label = self.texts.render(
                f"{weight_name} = {number(weight, 1)}", size, theme.ACCENT if chosen else theme.TEXT
            )
            middle = ((centre[0] + output_centre[0]) / 2, (centre[1] + output_centre[1]) / 2)
            box = label.get_rect(center=(middle[0], middle[1] + (position - 1.5) * 4))
            pygame.draw.rect(surface, theme.BACKGROUND, box.inflate(8, 2), border_radius=4)
            if chosen:
                pygame.draw.rect(surface, theme.ACCENT, box.inflate(10, 4), 2, border_radius=5)
            surface.blit(label, box)
            fill = tuple(int(40 + 180 * min(1.0, max(0.0, value))) for _ in range(3))
            pygame.draw.circle(surface, fill, centre, radius)
            pygame.draw.circle(surface, theme.PANEL_EDGE, centre, radius, 2)
            name = f"x{position + 1}  {name}" if index < 3 else name
            name_text = self.fit(name, layout.size(26), theme.TEXT_DIM, inputs_x - radius - graph.left - 8)
            value_text = self.texts.render(number(value), size, theme.TEXT)
            surface.blit(
                name_text, (centre[0] - radius - 10 - name_text.get_width(), centre[1] - name_text.get_height())
            )
            surface.blit(value_text, (centre[0] - radius - 10 - value_text.get_width(), centre[1]))
        pygame.draw.circle(surface, theme.PANEL, output_centre, radius + 8)
        pygame.draw.circle(surface, theme.ACCENT, output_centre, radius + 8, 3)
        output_text = self.texts.render(number(output), layout.size(40), theme.ACCENT)
        surface.blit(output_text, (output_centre[0] + radius + 16, output_centre[1] - output_text.get_height() // 2))
        name = self.texts.render(words.get("inputs.output"), layout.size(26), theme.TEXT_DIM)
        surface.blit(name, (output_centre[0] - name.get_width() // 2, output_centre[1] + radius + 12))
        shown = order[:3]
        equation = (
            f"{weighted_sum([parameters[i] for i in shown], [values[i] for i in shown], parameters[3])}"
            f" = {number(output)}"
        )
        formula = "y = w1·x1 + w2·x2 + w3·x3 + b"
        y = graph.bottom + layout.margin // 2
        surface.blit(self.fit(formula, size, theme.TEXT_DIM, diagram.width), (diagram.left, y))
        surface.blit(self.fit(equation, size, theme.TEXT, diagram.width), (diagram.left, y + line))
        self.drawn.update({"output": output, "chosen": neuron.chosen, "equation": equation})

    # --- chapter 3: a layer is a matrix ------------------------------------------------------------------------

    def draw_matrix(self, surface: pygame.Surface, layout: Layout) -> None:
        lesson = self.lesson
        words = self.words
        area = layout.text_rect
        y = self.paragraphs(
            surface,
            words.lines("matrix.body"),
            layout.size(34),
            theme.TEXT,
            area.left,
            area.top + layout.margin,
            area.width,
        )
        self.key_hints(surface, layout, [words.get("matrix.key_row"), words.get("matrix.key_drive")])
        layer = lesson.car.network[0]
        product = layer_product(layer, lesson.car.readings)
        row = lesson.matrix_row
        shown = list(lesson.weighted_sum.order[:3])  # the inputs from the car's leftmost ray to its rightmost
        lines = [
            f"{words.get('matrix.row', row=row + 1)}:",
            weighted_sum(
                product.weights[row, shown].tolist(), product.inputs[shown].tolist(), float(product.bias[row])
            ),
            f"= {number(product.outputs[row])}",
        ]
        size = layout.size(28)
        for index, text in enumerate(lines):
            colour = theme.ACCENT if index == 0 else theme.TEXT
            rendered = self.fit(text, size, colour, area.width)
            surface.blit(rendered, (area.left, y))
            y += self.texts.font(size).get_linesize()

        visual = layout.visual_rect
        car_rect = pygame.Rect(visual.left, visual.top + layout.margin // 2, visual.width, round(visual.height * 0.34))
        self.draw_car(surface, car_rect)
        numbers = layout.size(28)
        weights = [[number(product.weights[r, c]) for r in range(product.weights.shape[0])] for c in shown]
        inputs = [[number(product.inputs[c]) for c in shown]]
        bias = [[number(value) for value in product.bias]]
        outputs = [[number(value) for value in product.outputs]]
        # shrink the numbers until the whole product fits the width
        while True:
            font = self.texts.font(numbers)
            needed = sum(max(font.size(cell)[0] for cell in column) for column in [*weights, *inputs, *bias, *outputs])
            needed += 14 * 5 + 16 * 4 + 4 * (font.size(" + ")[0] + 16)
            if needed <= visual.width or numbers <= 12:
                break
            numbers -= 1
        top = car_rect.bottom + layout.margin
        header = self.texts.font(layout.size(24))
        labels_y = top
        top += header.get_linesize()
        x = visual.left
        line = round(self.texts.font(numbers).get_linesize() * 1.1)
        centre_y = top + 3 + 3 * line
        headers = []
        rect = self.bracketed(surface, x, top, weights, numbers, highlight=row)
        headers.append(("W", rect))
        x = self.operator(surface, "·", rect.right, centre_y, numbers)
        top_inputs = centre_y - (3 * line + 6) // 2
        rect = self.bracketed(surface, x, top_inputs, inputs, numbers, theme.GOOD)
        headers.append(("x", rect))
        x = self.operator(surface, "+", rect.right, centre_y, numbers)
        rect = self.bracketed(surface, x, top, bias, numbers, highlight=row)
        headers.append(("b", rect))
        x = self.operator(surface, "=", rect.right, centre_y, numbers)
        rect = self.bracketed(surface, x, top, outputs, numbers, theme.ACCENT, highlight=row)
        headers.append(("W·x + b", rect))
        for name, rect in headers:
            text = self.texts.render(name, layout.size(24), theme.TEXT_DIM)
            surface.blit(text, (rect.centerx - text.get_width() // 2, labels_y))
        # the inputs' names under x
        x_rect = headers[1][1]
        y = x_rect.bottom + 4
        for slot in shown:
            text = self.fit(self.sensor_labels[slot], layout.size(20), theme.TEXT_DIM, 200)
            surface.blit(text, (x_rect.centerx - text.get_width() // 2, y))
            y += text.get_height()
        self.drawn.update({"row": row, "outputs": product.outputs, "number_size": numbers})

    # --- chapter 4: why a non-linearity ------------------------------------------------------------------------

    def draw_nonlinear(self, surface: pygame.Surface, layout: Layout) -> None:
        lesson = self.lesson
        words = self.words
        demo = lesson.collapse
        area = layout.text_rect
        y = self.paragraphs(
            surface,
            words.lines("nonlinear.body"),
            layout.size(34),
            theme.TEXT,
            area.left,
            area.top + layout.margin,
            area.width,
        )
        self.key_hints(surface, layout, [words.get("nonlinear.key_random"), words.get("nonlinear.key_designed")])
        matrix, bias = demo.collapsed()
        size = layout.size(28)
        label = self.texts.render(words.get("nonlinear.product"), size, theme.TEXT_DIM)
        surface.blit(label, (area.left, y))
        columns = [[number(value, 1) for value in matrix[:, column]] for column in range(matrix.shape[1])]
        rect = self.bracketed(surface, area.left + label.get_width() + 12, y, columns, size)
        x = self.operator(surface, "+", rect.right, rect.centery, size)
        self.bracketed(surface, x, y, [[number(value, 1) for value in bias]], size)
        y = rect.bottom + layout.margin // 2
        caption = (
            words.get("nonlinear.designed") if demo.seed is None else words.get("nonlinear.random", seed=demo.seed)
        )
        self.paragraphs(surface, [caption], layout.size(26), theme.TEXT_DIM, area.left, y, area.width)

        visual = layout.visual_rect
        legend_height = self.texts.font(layout.size(26)).get_linesize() + layout.margin
        half = (visual.width - layout.margin) // 2
        maps_rect = pygame.Rect(
            visual.left, visual.top + layout.margin, half, visual.height - legend_height - layout.margin
        )
        first = self.draw_map(surface, demo.linear_map, maps_rect, words.get("nonlinear.linear"), layout)
        maps_rect.left += half + layout.margin
        self.draw_map(surface, demo.nonlinear_map, maps_rect, words.get("nonlinear.sigmoid"), layout)
        self.draw_legend(surface, layout, visual.left, first.bottom + layout.size(24) + 12, visual.width)
        self.drawn.update({"collapsed": matrix, "seed": demo.seed})

    # --- chapter 5: the car's brain ----------------------------------------------------------------------------

    def draw_brain(self, surface: pygame.Surface, layout: Layout) -> None:
        lesson = self.lesson
        words = self.words
        car = lesson.car
        area = layout.text_rect
        y = self.paragraphs(
            surface,
            words.lines("brain.body"),
            layout.size(34),
            theme.TEXT,
            area.left,
            area.top + layout.margin,
            area.width,
        )
        code = self.code_lines(car.network)
        size = layout.size(30)
        for line in code:
            text = self.fit(line, size, theme.ACCENT, area.width)
            surface.blit(text, (area.left, y))
            y += self.texts.font(size).get_linesize()
        y += layout.margin // 2
        formula = parameter_formula(car.network)
        parameters = words.get("brain.parameters", formula=formula, count=car.parameter_count)
        y = self.paragraphs(surface, [parameters], layout.size(34), theme.TEXT, area.left, y, area.width)
        hints = [words.get("brain.key_ahead"), words.get("brain.key_pause")]
        self.key_hints(surface, layout, hints)

        visual = layout.visual_rect
        top_height = round(visual.height * 0.5)
        half = (visual.width - layout.margin) // 2
        caption = words.get("brain.paused") if lesson.car_paused else words.get("brain.car")
        text = self.fit(caption, layout.size(28), theme.ACCENT if lesson.car_paused else theme.TEXT, half)
        surface.blit(text, (visual.left + half // 2 - text.get_width() // 2, visual.top + layout.margin // 2))
        car_top = visual.top + layout.margin // 2 + text.get_height() + 4
        car_rect = pygame.Rect(visual.left, car_top, half, top_height - text.get_height() - 4)
        self.draw_car(surface, car_rect)
        readings = car.readings
        slots = car.slots
        winners = car.decision_map(lesson.ahead)
        map_rect = pygame.Rect(car_rect.right + layout.margin, visual.top + layout.margin // 2, half, top_height)
        square = self.draw_map(
            surface,
            winners,
            map_rect,
            words.get("brain.map", ahead=f"{lesson.ahead:.1f}"),
            layout,
            marker=(float(readings[slots.left]), float(readings[slots.right])),
        )
        legend_y = square.bottom + layout.size(24) + 8
        legend_y = self.draw_legend(surface, layout, visual.left, legend_y, visual.width)
        network_rect = pygame.Rect(
            visual.left, legend_y + layout.margin // 2, visual.width, visual.bottom - legend_y - layout.margin // 2
        )
        snapshot = network_snapshot(car.network, readings)
        if network_rect.height > 80:
            self.network_view.draw(surface, network_rect, snapshot, "")
        self.drawn.update(
            {
                "ahead": lesson.ahead,
                "winners": winners,
                "parameters": parameters,
                "code": code,
                "action": snapshot.chosen,
            }
        )

    @staticmethod
    def code_lines(network) -> list[str]:
        """The `nn.Sequential` line, one module per line so it reads from afar."""
        inner = sequential_line(network)[len("nn.Sequential(") : -1]
        parts = [part.strip() for part in inner.replace("), ", ")|").split("|")]
        return ["nn.Sequential(", *[f"    {part}," for part in parts[:-1]], f"    {parts[-1]})"]

    # --- chapter 6: learning to drive --------------------------------------------------------------------------

    def draw_driving(self, surface: pygame.Surface, layout: Layout) -> None:
        words = self.words
        area = layout.text_rect
        self.paragraphs(
            surface,
            words.lines("driving.body"),
            layout.size(34),
            theme.TEXT,
            area.left,
            area.top + layout.margin,
            area.width,
            gap=0.6,
        )
        self.key_hints(surface, layout, [words.get("driving.key_evolve"), words.get("driving.key_drive")])
        visual = layout.visual_rect
        back = words.get("driving.back", folder=self.recordings)
        back_size = layout.size(28)
        back_lines = wrap(self.texts.font(back_size), back, visual.width)
        back_height = len(back_lines) * self.texts.font(back_size).get_linesize() + layout.margin
        car_rect = pygame.Rect(
            visual.left, visual.top + layout.margin // 2, visual.width, visual.height - back_height - layout.margin
        )
        self.draw_car(surface, car_rect)
        self.paragraphs(
            surface, [back], back_size, theme.TEXT_DIM, visual.left, car_rect.bottom + layout.margin // 2, visual.width
        )
        self.drawn.update({"back": back})
