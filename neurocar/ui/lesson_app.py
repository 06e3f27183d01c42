"""`neurocar lesson`: the window of six chapters, from one neuron to the driving car.

The window is the shell of the other windows (`open_display`, the help overlay, the screenshot on quit, the frame
hook tests post events from) around three parts: the `Lesson` model (layer 2) that holds every chapter's state, the
key bindings below (data: keys, the help text, the command on the model) that turn key presses into commands, and
the `LessonView` that draws the model and never changes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pygame

from neurocar.config import Config
from neurocar.learn.lesson import CHAPTERS, Lesson
from neurocar.lesson_text import LessonText
from neurocar.paths import display_path
from neurocar.ui.app import WindowClosed
from neurocar.ui.display import open_display, save_png
from neurocar.ui.help_overlay import HelpOverlay
from neurocar.ui.lesson_view import LessonView
from neurocar.ui.theme import TextCache

HOLD_DELAY_FRAMES = 15  # Space held this many frames starts stepping every frame
MAX_CAR_STEPS_PER_FRAME = 5
PLUS_KEYS = (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS)
MINUS_KEYS = (pygame.K_MINUS, pygame.K_KP_MINUS, pygame.K_UNDERSCORE)


@dataclass(frozen=True)
class Binding:
    """A key binding: the keys, the text key of its help line in the lesson texts, and what it does."""

    keys: tuple[int, ...]
    text: str
    action: Callable[[Lesson], None]


CHAPTER_BINDINGS: dict[str, list[Binding]] = {
    "neuron": [
        Binding((pygame.K_SPACE,), "neuron.key_step", Lesson.learning_step),
        Binding(PLUS_KEYS, "neuron.key_rate", lambda lesson: lesson.change_rate(+1)),
        Binding(MINUS_KEYS, "", lambda lesson: lesson.change_rate(-1)),
        Binding((pygame.K_r,), "neuron.key_reset", Lesson.new_start),
    ],
    "inputs": [
        Binding((pygame.K_DOWN,), "inputs.key_choose", lambda lesson: lesson.weighted_sum.choose(+1)),
        Binding((pygame.K_UP,), "", lambda lesson: lesson.weighted_sum.choose(-1)),
        Binding(PLUS_KEYS, "inputs.key_nudge", lambda lesson: lesson.weighted_sum.nudge(+1)),
        Binding(MINUS_KEYS, "", lambda lesson: lesson.weighted_sum.nudge(-1)),
        Binding((pygame.K_n,), "inputs.key_drive", Lesson.drive_on),
    ],
    "matrix": [
        Binding((pygame.K_DOWN,), "matrix.key_row", lambda lesson: lesson.choose_row(+1)),
        Binding((pygame.K_UP,), "", lambda lesson: lesson.choose_row(-1)),
        Binding((pygame.K_n,), "matrix.key_drive", Lesson.drive_on),
    ],
    "nonlinear": [
        Binding((pygame.K_r,), "nonlinear.key_random", Lesson.random_weights),
        Binding((pygame.K_d,), "nonlinear.key_designed", Lesson.designed_weights),
    ],
    "brain": [
        Binding((*PLUS_KEYS, pygame.K_UP), "brain.key_ahead", lambda lesson: lesson.change_ahead(+1)),
        Binding((*MINUS_KEYS, pygame.K_DOWN), "", lambda lesson: lesson.change_ahead(-1)),
        Binding((pygame.K_SPACE,), "brain.key_pause", Lesson.toggle_car),
    ],
    "driving": [
        Binding((pygame.K_e,), "driving.key_evolve", lambda lesson: lesson.open_window("sim")),
        Binding((pygame.K_d,), "driving.key_drive", lambda lesson: lesson.open_window("drive")),
    ],
}
CHAPTER_KEYS = {getattr(pygame, f"K_{number}"): number for number in range(1, len(CHAPTERS) + 1)}


def split_hint(text: str) -> tuple[str, str]:
    """'Space  one step' -> ('Space', 'one step'): a key hint is the key, two spaces, what it does."""
    key, separator, action = text.partition("  ")
    return (key.strip(), action.strip()) if separator else ("", text.strip())


class LessonApp:
    """The lesson window: shell, key bindings, view."""

    def __init__(
        self,
        config: Config,
        lesson: Lesson,
        words: LessonText,
        *,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        recordings: str = "recordings",
    ) -> None:
        self.config = config
        self.lesson = lesson
        self.words = words
        self.max_frames = max_frames
        self.screenshot = screenshot
        self.frame_count = 0
        self.show_help = False
        self.closed = False
        self.before_frame: Callable[[LessonApp], None] | None = None  # tests post events here
        self.texts = TextCache()
        self.view = LessonView(self.texts, words, lesson, recordings)
        self.screen: pygame.Surface | None = None
        self.clock: pygame.time.Clock | None = None
        self.space_held_frames: int | None = None
        self._helps: dict[str, HelpOverlay] = {}
        self._car_budget = 0.0
        self._last_time = 0.0
        self.real_time = time.perf_counter  # a clock [s]; the car drives as much time as has passed on it

    # --- help --------------------------------------------------------------------------------------------------

    def help_keys(self, chapter: str | None = None) -> list[tuple[str, str]]:
        """(key, action) lines of the help: the current chapter's keys, then the keys of every chapter."""
        words = self.words
        chapter = chapter or self.lesson.chapter_name
        lines = [split_hint(words.get(binding.text)) for binding in CHAPTER_BINDINGS[chapter] if binding.text]
        return [
            *lines,
            (words.get("help.keys_chapters"), words.get("help.chapters")),
            (words.get("help.keys_first_last"), words.get("help.first_last")),
            (f"1 … {len(CHAPTERS)}", words.get("help.jump")),
            ("H  F1", words.get("help.help")),
            ("Esc", words.get("help.quit")),
        ]

    def help_overlay(self) -> HelpOverlay:
        """The help of the current chapter (made once per chapter)."""
        name = self.lesson.chapter_name
        if name not in self._helps:
            title = f"{self.words.get('help.title')}: {self.words.get(f'{name}.title')}"
            self._helps[name] = HelpOverlay(self.texts, title, self.help_keys(name), self.words.get("help.close"))
        return self._helps[name]

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> str | None:
        """Open the window and show the lesson until it closes; returns the window chapter 6 asked for ('sim' or
        'drive'), or None when the lesson was closed."""
        self.screen = open_display(self.config)
        self.clock = pygame.time.Clock()
        self._last_time = self.real_time()
        try:
            while self.lesson.request is None:
                self.frame()
        except WindowClosed:
            pass
        finally:
            self.close_window()
        return self.lesson.request

    def close_window(self) -> None:
        """Save the screenshot if asked, then close the display."""
        if self.screen is not None and self.screenshot is not None:
            save_png(self.screen, self.screenshot)
            print(f"screenshot saved to {display_path(Path(self.screenshot))}")
        pygame.display.quit()
        self.screen = None

    def frame(self) -> None:
        """One frame: the test hook, the keys, held Space, the car's real-time steps, drawing, pacing."""
        if self.before_frame is not None:
            self.before_frame(self)
        self.frame_count += 1
        self.handle_events()
        if self.space_held_frames is not None:
            self.space_held_frames += 1
            if self.space_held_frames > HOLD_DELAY_FRAMES and self.lesson.chapter_name == "neuron":
                self.lesson.learning_step()
        self.drive_car()
        assert self.screen is not None and self.clock is not None
        pygame.display.set_caption(
            f"{self.words.get('window.title')} - {self.words.get(f'{self.lesson.chapter_name}.title')}"
        )
        self.view.draw(self.screen)
        if self.show_help:
            self.help_overlay().draw(self.screen)
        pygame.display.flip()
        self.clock.tick(self.config.window.fps)
        if self.max_frames is not None and self.frame_count >= self.max_frames:
            self.close()

    def drive_car(self) -> None:
        """Advance the lesson's car by the real time that passed (dt never changes; whole steps only)."""
        now = self.real_time()
        elapsed = min(0.25, now - self._last_time)
        self._last_time = now
        self._car_budget = min(self._car_budget + elapsed / self.config.physics.dt_s, MAX_CAR_STEPS_PER_FRAME)
        whole = int(self._car_budget)
        steps = self.lesson.car_steps_due(whole)
        for _ in range(steps):
            self.lesson.car.step()
        self._car_budget -= whole

    def close(self) -> None:
        """Quit the window."""
        self.closed = True
        raise WindowClosed

    def handle_events(self) -> None:
        """Keys and window events."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.close()
            elif event.type == pygame.VIDEORESIZE:
                self.screen = pygame.display.get_surface()
            elif event.type == pygame.KEYDOWN:
                self.handle_key(event.key)
            elif event.type == pygame.KEYUP and event.key == pygame.K_SPACE:
                self.space_held_frames = None

    def handle_key(self, key: int) -> None:
        """React to one key press: the window's keys first, then the current chapter's."""
        lesson = self.lesson
        if key == pygame.K_ESCAPE:
            self.close()
        elif key in (pygame.K_h, pygame.K_F1):
            self.show_help = not self.show_help
        elif key in (pygame.K_RIGHT, pygame.K_PAGEDOWN):
            lesson.move(+1)
        elif key in (pygame.K_LEFT, pygame.K_PAGEUP):
            lesson.move(-1)
        elif key == pygame.K_HOME:
            lesson.go_to(1)
        elif key == pygame.K_END:
            lesson.go_to(len(CHAPTERS))
        elif key in CHAPTER_KEYS:
            lesson.go_to(CHAPTER_KEYS[key])
        else:
            if key == pygame.K_SPACE:
                self.space_held_frames = 0
            for binding in CHAPTER_BINDINGS[lesson.chapter_name]:
                if key in binding.keys:
                    binding.action(lesson)
                    break
