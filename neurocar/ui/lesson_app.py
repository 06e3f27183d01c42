"""`neurocar lesson`: the window of six chapters, from one neuron to the driving car.

The window composes the shell every window is built on (`WindowShell`: the display, the key bindings and the help
overlay drawn from them, the screenshot on quit, the frame hook tests post events from) with three parts of its
own: the `Lesson` model (layer 2) that holds every chapter's state, the chapter key bindings below (data: keys, the
text key of the help line in the lesson texts, the command on the model), and the `LessonView` that draws the model
and never changes it. The shell's bindings are rebuilt for each chapter, so the help lists that chapter's keys.
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
from neurocar.ui import key_bindings
from neurocar.ui.key_bindings import MINUS_KEYS, PLUS_KEYS
from neurocar.ui.lesson_view import LessonView
from neurocar.ui.shell import WindowClosed, WindowShell

HOLD_DELAY_FRAMES = 15  # Space held this many frames starts stepping every frame
MAX_CAR_STEPS_PER_FRAME = 5


@dataclass(frozen=True)
class ChapterBinding:
    """A key binding: the keys, the text key of its help line in the lesson texts, and what it does."""

    keys: tuple[int, ...]
    text: str
    action: Callable[[Lesson], None]


CHAPTER_BINDINGS: dict[str, list[ChapterBinding]] = {
    "neuron": [
        ChapterBinding((pygame.K_SPACE,), "neuron.key_step", Lesson.learning_step),
        ChapterBinding(PLUS_KEYS, "neuron.key_rate", lambda lesson: lesson.change_rate(+1)),
        ChapterBinding(MINUS_KEYS, "", lambda lesson: lesson.change_rate(-1)),
        ChapterBinding((pygame.K_r,), "neuron.key_reset", Lesson.new_start),
    ],
    "inputs": [
        ChapterBinding((pygame.K_DOWN,), "inputs.key_choose", lambda lesson: lesson.weighted_sum.choose(+1)),
        ChapterBinding((pygame.K_UP,), "", lambda lesson: lesson.weighted_sum.choose(-1)),
        ChapterBinding(PLUS_KEYS, "inputs.key_nudge", lambda lesson: lesson.weighted_sum.nudge(+1)),
        ChapterBinding(MINUS_KEYS, "", lambda lesson: lesson.weighted_sum.nudge(-1)),
        ChapterBinding((pygame.K_n,), "inputs.key_drive", Lesson.drive_on),
    ],
    "matrix": [
        ChapterBinding((pygame.K_DOWN,), "matrix.key_row", lambda lesson: lesson.choose_row(+1)),
        ChapterBinding((pygame.K_UP,), "", lambda lesson: lesson.choose_row(-1)),
        ChapterBinding((pygame.K_n,), "matrix.key_drive", Lesson.drive_on),
    ],
    "nonlinear": [
        ChapterBinding((pygame.K_r,), "nonlinear.key_random", Lesson.random_weights),
        ChapterBinding((pygame.K_d,), "nonlinear.key_designed", Lesson.designed_weights),
    ],
    "brain": [
        ChapterBinding((*PLUS_KEYS, pygame.K_UP), "brain.key_ahead", lambda lesson: lesson.change_ahead(+1)),
        ChapterBinding((*MINUS_KEYS, pygame.K_DOWN), "", lambda lesson: lesson.change_ahead(-1)),
        ChapterBinding((pygame.K_SPACE,), "brain.key_pause", Lesson.toggle_car),
    ],
    "driving": [
        ChapterBinding((pygame.K_e,), "driving.key_evolve", lambda lesson: lesson.open_window("sim")),
        ChapterBinding((pygame.K_d,), "driving.key_drive", lambda lesson: lesson.open_window("drive")),
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
        self.shell = WindowShell(config, "", max_frames=max_frames, screenshot=screenshot, panel=False)
        self.shell.help_hint = words.get("help.close")
        self.shell.help_label, self.shell.help_text = "H / F1", words.get("help.help")
        self.shell.quit_text = words.get("help.quit")
        self.shell.event_filter = self.release_space
        self.view = LessonView(self.shell.texts, words, lesson, recordings)
        self.space_held_frames: int | None = None
        self._bound_chapter: str | None = None
        self._pressed = 0  # the key being handled (a digit picks its chapter)
        self._car_budget = 0.0
        self._last_time = 0.0
        self.real_time = time.perf_counter  # a clock [s]; the car drives as much time as has passed on it

    # --- keys and help -----------------------------------------------------------------------------------------

    def bindings(self, chapter: str) -> list[key_bindings.Binding]:
        """The keys of a chapter, then the keys that move between chapters (the shell adds help and quit)."""
        words = self.words
        lesson = self.lesson
        own = []
        for binding in CHAPTER_BINDINGS[chapter]:
            label, text = split_hint(words.get(binding.text)) if binding.text else ("", "")
            own.append(key_bindings.Binding(label, text, self.chapter_action(binding), binding.keys))
        last = len(CHAPTERS)
        return [
            *own,
            key_bindings.Binding(
                words.get("help.keys_chapters"),
                words.get("help.chapters"),
                lambda: lesson.move(+1),
                (pygame.K_RIGHT, pygame.K_PAGEDOWN),
            ),
            key_bindings.Binding("", "", lambda: lesson.move(-1), (pygame.K_LEFT, pygame.K_PAGEUP)),
            key_bindings.Binding(
                words.get("help.keys_first_last"),
                words.get("help.first_last"),
                lambda: lesson.go_to(1),
                (pygame.K_HOME,),
            ),
            key_bindings.Binding("", "", lambda: lesson.go_to(last), (pygame.K_END,)),
            key_bindings.Binding(f"1 … {last}", words.get("help.jump"), self.jump_to_pressed, tuple(CHAPTER_KEYS)),
        ]

    def chapter_action(self, binding: ChapterBinding) -> Callable[[], None]:
        """What a chapter binding does in this window (Space also starts the hold-to-repeat count)."""

        def act() -> None:
            if pygame.K_SPACE in binding.keys:
                self.space_held_frames = 0
            binding.action(self.lesson)

        return act

    def jump_to_pressed(self) -> None:
        """1 … 6: the chapter of the digit key being handled."""
        self.lesson.go_to(CHAPTER_KEYS[self._pressed])

    def help_keys(self, chapter: str | None = None) -> list[tuple[str, str]]:
        """(key, action) lines of the help: the current chapter's keys, then the keys of every chapter."""
        self.bind(chapter or self.lesson.chapter_name)
        return self.shell.help_lines()

    def bind(self, chapter: str) -> None:
        """The shell's bindings and help title for `chapter` (rebuilt only when the chapter changes)."""
        if chapter == self._bound_chapter:
            return
        self.shell.help_title = f"{self.words.get('help.title')}: {self.words.get(f'{chapter}.title')}"
        self.shell.set_bindings(self.bindings(chapter))
        self._bound_chapter = chapter

    def release_space(self, event: pygame.event.Event) -> bool:
        """Letting go of Space stops the repeated steps; a digit key is remembered for `jump_to_pressed`."""
        if event.type == pygame.KEYUP and event.key == pygame.K_SPACE:
            self.space_held_frames = None
        elif event.type == pygame.KEYDOWN:
            self._pressed = event.key
            self.bind(self.lesson.chapter_name)
        return False

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> str | None:
        """Open the window and show the lesson until it closes; returns the window chapter 6 asked for ('sim' or
        'drive'), or None when the lesson was closed."""
        self.bind(self.lesson.chapter_name)
        self.shell.open(self.caption())
        self._last_time = self.real_time()
        try:
            while self.lesson.request is None:
                self.frame()
        except WindowClosed:
            pass
        finally:
            self.shell.close_window()
        return self.lesson.request

    def caption(self) -> str:
        """The window title: the lesson and the chapter."""
        return f"{self.words.get('window.title')} - {self.words.get(f'{self.lesson.chapter_name}.title')}"

    def frame(self) -> None:
        """One frame: the test hook, the keys, held Space, the car's real-time steps, drawing, pacing."""
        shell = self.shell
        shell.begin_frame()
        if self.space_held_frames is not None:
            self.space_held_frames += 1
            if self.space_held_frames > HOLD_DELAY_FRAMES and self.lesson.chapter_name == "neuron":
                self.lesson.learning_step()
        self.drive_car()
        assert shell.screen is not None
        self.bind(self.lesson.chapter_name)
        pygame.display.set_caption(self.caption())
        self.view.draw(shell.screen)
        shell.draw_chrome(shell.screen)
        shell.end_frame(None)

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
