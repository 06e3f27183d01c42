"""How many simulation steps a window frame runs: the real-time step budget, the speed keys and max speed.

The speed is a multiple of real time: at 1x one second of the window is one second of simulated time (20 steps
at dt 0.05 s). After each frame the budget grows by the real time elapsed x multiplier / dt, and the window runs
the budget's whole steps; `dt` itself never changes. At max speed the window steps for a slice of real time
(`MAX_SPEED_SLICE_SECONDS`) between two frames and does not wait for the frame rate, so it draws a few times a
second and spends the rest on the simulation. When a frame takes long to draw (a big population, every car's
rays), the slice grows so drawing stays near a tenth of the time (`MAX_SPEED_DRAW_SHARE`), up to
`MAX_SPEED_SLICE_LIMIT_SECONDS` so the window still answers its keys. Paused, no steps run and the budget keeps
only its fraction (the drawing interpolates by it).

`Pacer.run_steps(step, can_step)` is the one stepping loop of the windows that own their loop; a window whose
steps are driven from elsewhere (a learning loop calling back after each step) uses `spend_step` and `frame_due`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pygame

from neurocar.ui.key_bindings import MINUS_KEYS, PLUS_KEYS, Binding

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
MAX_SPEED_SLICE_SECONDS = 1.0 / 8  # at max speed, step at least this long between two frames
MAX_SPEED_SLICE_LIMIT_SECONDS = 1.0  # and never longer than this
MAX_SPEED_DRAW_SHARE = 0.1  # at max speed, drawing takes about this share of the time
MAX_FRAME_SECONDS = 0.25  # a slow frame never asks for more than this much simulated catch-up


def parse_speed(text: str) -> float:
    """A speed option: 'max' (infinity) or a multiplier among SPEEDS, e.g. '1', '4', '0.25'."""
    if text.strip().lower() == "max":
        return math.inf
    value = float(text)
    if value not in SPEEDS:
        raise ValueError(text)
    return value


def speed_label(multiplier: float) -> str:
    """'0.25x', '1x', '64x' or 'max'."""
    return "max" if math.isinf(multiplier) else f"{multiplier:g}x"


class Pacer:
    """The speed (a multiplier of real time, or max), pause, and the step budget of one window."""

    def __init__(self, dt_s: float, speed: float = 1.0, clock: Callable[[], float] = time.perf_counter) -> None:
        self.dt_s = dt_s
        self.speed_index = SPEEDS.index(1.0) if math.isinf(speed) else SPEEDS.index(speed)
        self.max_speed = math.isinf(speed)
        self.paused = False
        self.budget = 0.0
        self.clock = clock
        self._last_frame_time = clock()
        self._slice_end = 0.0
        self._steps_end: float | None = None  # when the last max-speed slice ended (the drawing began)
        self.slice_seconds = MAX_SPEED_SLICE_SECONDS

    @property
    def multiplier(self) -> float:
        """Simulated seconds per real second (infinite at max speed)."""
        return math.inf if self.max_speed else SPEEDS[self.speed_index]

    def label(self) -> str:
        """The speed as the HUD shows it: 'paused', '4x' or 'max'."""
        return "paused" if self.paused else speed_label(self.multiplier)

    # --- the keys ----------------------------------------------------------------------------------------------

    def toggle_pause(self) -> str:
        """Pause or resume; returns the notice to show."""
        self.paused = not self.paused
        return "paused" if self.paused else "running"

    def change_speed(self, direction: int) -> str:
        """One step faster (+1) or slower (-1), leaving max speed first; returns the notice to show."""
        if self.max_speed:
            self.max_speed = False
            self.budget = 0.0
        else:
            self.speed_index = min(len(SPEEDS) - 1, max(0, self.speed_index + direction))
        return f"speed {speed_label(self.multiplier)}"

    def toggle_max_speed(self) -> str:
        """Max speed on or off; returns the notice to show."""
        self.max_speed = not self.max_speed
        self.budget = math.inf if self.max_speed else 0.0
        self._slice_end = 0.0
        return f"speed {speed_label(self.multiplier)}"

    def bindings(self, notify: Callable[[str], None]) -> list[Binding]:
        """Space, + / - and F, each saying what it did through `notify`."""
        return [
            Binding("Space", "pause / resume", lambda: notify(self.toggle_pause()), (pygame.K_SPACE,)),
            Binding(
                "+ / -",
                f"simulation speed x2 / /2 ({speed_label(SPEEDS[0])} to {speed_label(SPEEDS[-1])})",
                lambda: notify(self.change_speed(+1)),
                PLUS_KEYS,
            ),
            Binding("", "", lambda: notify(self.change_speed(-1)), MINUS_KEYS),
            Binding(
                "F",
                "max speed on / off (draws a few times a second)",
                lambda: notify(self.toggle_max_speed()),
                (pygame.K_f,),
            ),
        ]

    # --- the steps ---------------------------------------------------------------------------------------------

    def run_steps(self, step: Callable[[], object], can_step: Callable[[], bool] = lambda: True) -> int:
        """Run this frame's steps: the budget's whole steps, or at max speed as many as a slice of real time
        holds; stops early when `can_step()` says there is nothing left. Returns the number of steps run."""
        steps = 0
        if self.paused:
            return 0
        if self.max_speed:
            deadline = self.clock() + self.slice_seconds
            while can_step() and self.clock() < deadline:
                step()
                steps += 1
            self._steps_end = self.clock()
        else:
            while self.budget >= 1 and can_step():
                step()
                self.budget -= 1
                steps += 1
        if not can_step():
            self.budget = min(self.budget, 0.999)
        return steps

    def spend_step(self) -> None:
        """A step was run by a loop the window does not own: take it from the budget."""
        self.budget -= 1

    def frame_due(self) -> bool:
        """For a loop the window does not own, after a step: should a frame be drawn now? At max speed once a
        slice of real time has passed; otherwise when the budget has no whole step left."""
        if self.paused:
            return True
        if self.max_speed:
            now = self.clock()
            if now < self._slice_end:
                return False
            self._slice_end = now + self.slice_seconds
            self._steps_end = now
            return True
        return self.budget < 1

    def frame_rate(self, fps: int, idle: bool) -> int:
        """The frame rate to wait for: none at max speed while there is something to simulate."""
        return 0 if self.max_speed and not self.paused and not idle else fps

    def after_frame(self) -> None:
        """A frame was shown: the budget grows by the real time it took (never more than MAX_FRAME_SECONDS)."""
        now = self.clock()
        elapsed = min(MAX_FRAME_SECONDS, now - self._last_frame_time)
        self._last_frame_time = now
        if self.paused:
            self.budget = min(self.budget, 0.999)
        elif self.max_speed:
            self.budget = math.inf
            if self._steps_end is not None:
                self.slice_seconds = self.max_speed_slice(now - self._steps_end)
        else:
            self.budget = min(self.budget, 1.0) + elapsed * self.multiplier / self.dt_s

    @staticmethod
    def max_speed_slice(draw_seconds: float) -> float:
        """How long to step at max speed between frames that take `draw_seconds` to draw: long enough that
        drawing is about `MAX_SPEED_DRAW_SHARE` of the time, within the slice's bounds."""
        wanted = draw_seconds * (1.0 - MAX_SPEED_DRAW_SHARE) / MAX_SPEED_DRAW_SHARE
        return min(MAX_SPEED_SLICE_LIMIT_SECONDS, max(MAX_SPEED_SLICE_SECONDS, wanted))

    @property
    def fraction(self) -> float | None:
        """How far the drawing is between the last two steps (None at max speed: draw the last step)."""
        return None if self.max_speed else min(1.0, max(0.0, self.budget))
