"""The lesson window under SDL's dummy driver: every chapter draws what its model says, in both languages, and the
keys change the model (events injected frame by frame)."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest
import torch

from neurocar.commands.common import load_one_track
from neurocar.config import load_config
from neurocar.learn.lesson import CHAPTERS, Lesson, LessonCar, sequential_line
from neurocar.learn.model_file import config_for_model, load_model
from neurocar.lesson_text import lesson_text
from neurocar.paths import SHIPPED_DRIVER
from neurocar.ui import lesson_app, theme
from neurocar.ui.lesson_app import CHAPTER_BINDINGS, HOLD_DELAY_FRAMES, LessonApp, split_hint
from neurocar.ui.lesson_view import number


@pytest.fixture(scope="module")
def setting():
    model = load_model(SHIPPED_DRIVER)
    config = config_for_model(model, load_config(), [])
    return config, load_one_track(None, config), model


def make_app(setting, chapter=1, language="en", max_frames=4, **options) -> LessonApp:
    config, track, model = setting
    lesson = Lesson(LessonCar(config, track, model), seed=0, chapter=chapter)
    return LessonApp(config, lesson, lesson_text(language), max_frames=max_frames, **options)


def key(code: int, up: bool = False) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYUP if up else pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)


def drive(app: LessonApp, script: dict[int, list], watch=None) -> tuple[str | None, list]:
    """Run the app, posting `script[frame]` before that frame; `watch(app)` is recorded after each frame's keys."""
    seen = []

    def before(current: LessonApp) -> None:
        if seen or current.shell.frame_count:
            seen.append(watch(current) if watch else None)
        for event in script.get(current.shell.frame_count, []):
            pygame.event.post(event)

    app.shell.before_frame = lambda: before(app)
    request = app.run()
    return request, seen


def colour_count(image: pygame.Surface, colour: tuple[int, int, int]) -> int:
    pixels = pygame.surfarray.array3d(image)
    return int(np.all(pixels == np.asarray(colour), axis=-1).sum())


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("chapter", range(1, len(CHAPTERS) + 1))
def test_every_chapter_draws_its_model_in_both_languages(setting, tmp_path, language, chapter):
    shot = tmp_path / "lesson.png"
    app = make_app(setting, chapter, language, screenshot=shot)
    ticks = iter(range(1_000_000))
    app.real_time = lambda: next(ticks) / 10  # a tenth of a second between readings, however fast the frames
    assert app.run() is None
    words, lesson, drawn = app.words, app.lesson, app.view.drawn
    name = CHAPTERS[chapter - 1]
    assert drawn["chapter"] == chapter and drawn["title"] == words.get(f"{name}.title")
    image = pygame.image.load(str(shot))
    assert image.get_size() == (1280, 800)
    assert drawn["shrunk"] == []  # at 1280x800 every text fits at its full size
    car = lesson.car
    if name == "neuron":
        last = lesson.neuron.history[-1]
        assert number(last.weight, 4) in drawn["state"] and drawn["behaviour"] == "converges"
        assert drawn["message"] == words.get("neuron.converges")
        assert colour_count(image, theme.POSITIVE) > 20  # the plot of y
    elif name == "inputs":
        assert drawn["output"] == pytest.approx(lesson.weighted_sum.output(car.readings))
        assert drawn["equation"].endswith(number(drawn["output"]))
    elif name == "matrix":
        with torch.no_grad():
            expected = car.network[0](torch.tensor(car.readings, dtype=torch.float32)).numpy()
        np.testing.assert_allclose(drawn["outputs"], expected, rtol=1e-6)
        assert drawn["number_size"] >= 20
    elif name == "nonlinear":
        demo = lesson.collapse
        with torch.no_grad():
            np.testing.assert_allclose(drawn["collapsed"], (demo.second.weight @ demo.first.weight).numpy(), rtol=1e-6)
        assert (demo.linear_map != demo.nonlinear_map).any()
        for colour in theme.ACTION_COLOURS:
            assert colour_count(image, colour) > 500  # both maps and the legend are drawn
    elif name == "brain":
        assert drawn["parameters"].startswith("3·6 + 6 + 6·3 + 3 = 45")
        code = "".join(line.strip() for line in drawn["code"])
        assert code == sequential_line(car.network).replace(", nn.", ",nn.")
        assert code == "nn.Sequential(nn.Linear(3, 6),nn.Sigmoid(),nn.Linear(6, 3))"
        np.testing.assert_array_equal(drawn["winners"], car.decision_map(lesson.ahead))
        assert car.world.steps > 0  # the shipped driver drives while the chapter is shown
    else:
        assert "recordings" in drawn["back"]


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_small_window_shrinks_little(setting, language):
    config, track, model = setting
    small = load_config(None, ["window.width=800", "window.height=600"])
    for chapter in range(1, len(CHAPTERS) + 1):
        lesson = Lesson(LessonCar(config, track, model), seed=0, chapter=chapter)
        app = LessonApp(small, lesson, lesson_text(language), max_frames=2)
        app.run()
        for text, size, drawn_size in app.view.drawn["shrunk"]:
            assert drawn_size >= 0.8 * size, (chapter, text)


def test_space_takes_one_step_and_holding_it_runs_steps(setting):
    app = make_app(setting, max_frames=60)
    script = {2: [key(pygame.K_SPACE), key(pygame.K_SPACE, up=True)], 5: [key(pygame.K_SPACE)]}
    script[5 + HOLD_DELAY_FRAMES + 20] = [key(pygame.K_SPACE, up=True)]
    _request, steps = drive(app, script, watch=lambda app: len(app.lesson.neuron.history) - 1)
    assert steps[1] == 0 and steps[2] == 1 and steps[5] == 2
    assert steps[5 + HOLD_DELAY_FRAMES + 19] >= 2 + 15  # held: a step every frame after the delay
    assert steps[-1] == steps[5 + HOLD_DELAY_FRAMES + 21]  # released: no more steps


def test_plus_and_minus_change_the_rate_and_restart_from_the_same_weight(setting):
    app = make_app(setting, max_frames=12)
    script = {2: [key(pygame.K_SPACE)], 3: [key(pygame.K_PLUS)], 5: [key(pygame.K_MINUS), key(pygame.K_MINUS)]}
    script[7] = [key(pygame.K_EQUALS)] * 40
    _request, seen = drive(
        app, script, watch=lambda app: (app.lesson.neuron.learning_rate, len(app.lesson.neuron.history))
    )
    assert seen[2] == (0.01, 2)
    assert seen[3] == (0.02, 1)  # a new rate starts again at step 0
    assert seen[5] == (0.005, 1)
    assert seen[7][0] == max(app.lesson.rates)
    assert app.lesson.neuron.start_weight == app.lesson.neuron.history[0].weight


def test_a_rate_above_two_over_x_shows_divergence(setting):
    app = make_app(setting, max_frames=40)
    rates = app.lesson.rates
    ups = rates.index(0.4) - rates.index(0.01)
    drive(app, {2: [key(pygame.K_PLUS)] * ups, 3: [key(pygame.K_SPACE), key(pygame.K_SPACE, up=True)] * 8})
    assert app.lesson.neuron.learning_rate == 0.4
    assert app.view.drawn["behaviour"] == "diverges"
    assert app.view.drawn["message"] == app.words.get("neuron.diverges", diverge="0.333")


def test_r_draws_a_new_start_weight(setting):
    app = make_app(setting, max_frames=6)
    first = app.lesson.neuron.start_weight
    drive(app, {2: [key(pygame.K_r)]})
    assert app.lesson.neuron.start_weight != first and 0 <= app.lesson.neuron.start_weight < 0.5


def test_chapter_keys_move_between_chapters(setting):
    app = make_app(setting, max_frames=20)
    script = {
        2: [key(pygame.K_RIGHT)],
        3: [key(pygame.K_PAGEDOWN)],
        4: [key(pygame.K_LEFT)],
        5: [key(pygame.K_END)],
        6: [key(pygame.K_RIGHT)],
        7: [key(pygame.K_HOME)],
        8: [key(pygame.K_LEFT)],
        9: [key(pygame.K_5)],
        10: [key(pygame.K_PAGEUP)],
    }
    _request, chapters = drive(app, script, watch=lambda app: app.lesson.chapter)
    assert chapters[2:11] == [2, 3, 2, 6, 6, 1, 1, 5, 4]


def test_h_toggles_help_and_esc_quits(setting):
    app = make_app(setting, max_frames=100)
    _request, shown = drive(
        app,
        {2: [key(pygame.K_h)], 4: [key(pygame.K_F1)], 6: [key(pygame.K_ESCAPE)]},
        watch=lambda app: app.shell.show_help,
    )
    assert shown[2] is True and shown[4] is False
    assert app.shell.frame_count == 7 and app.shell.closed  # Esc posted before frame 7 ends the window in it


def test_help_lists_every_key_of_the_chapter(setting):
    app = make_app(setting)
    for chapter, bindings in CHAPTER_BINDINGS.items():
        lines = app.help_keys(chapter)
        hints = [split_hint(app.words.get(binding.text)) for binding in bindings if binding.text]
        assert lines[: len(hints)] == hints
        assert all(key and action for key, action in hints)


def test_chapter_two_keys_choose_and_nudge_a_weight(setting):
    app = make_app(setting, chapter=2, max_frames=8)
    readings = app.lesson.car.readings
    before = app.lesson.weighted_sum.output(readings)
    drive(app, {2: [key(pygame.K_DOWN)], 3: [key(pygame.K_PLUS), key(pygame.K_PLUS)], 4: [key(pygame.K_UP)] * 2})
    neuron = app.lesson.weighted_sum
    assert neuron.parameters[1] == pytest.approx(0.2)
    assert neuron.chosen == 3  # Up twice from w2 wraps round to the bias
    assert neuron.output(readings) == pytest.approx(before + 0.2 * readings[1])
    assert app.view.drawn["chosen"] == 3


def test_chapter_three_rows_and_n_drives_the_car_on(setting):
    app = make_app(setting, chapter=3, max_frames=50)
    start = app.lesson.car.world.steps
    _request, rows = drive(
        app, {2: [key(pygame.K_DOWN)] * 7, 3: [key(pygame.K_n)]}, watch=lambda app: app.lesson.matrix_row
    )
    assert rows[2] == 1  # six rows: seven steps down wrap to the second
    assert app.lesson.car.world.steps > start  # N drove the car on; without it the car stands still
    still = make_app(setting, chapter=3, max_frames=30)
    still.run()
    assert still.lesson.car.world.steps == 0


def test_chapter_four_random_and_designed_weights(setting):
    app = make_app(setting, chapter=4, max_frames=6)
    designed = app.lesson.collapse.collapsed()[0]
    drive(app, {2: [key(pygame.K_r)]})
    assert app.lesson.collapse.seed == 1
    assert not np.allclose(app.view.drawn["collapsed"], designed)
    app = make_app(setting, chapter=4, max_frames=6)
    drive(app, {2: [key(pygame.K_r)], 3: [key(pygame.K_d)]})
    np.testing.assert_allclose(app.view.drawn["collapsed"], designed)


def test_chapter_five_keys_change_the_map_and_pause_the_car(setting):
    app = make_app(setting, chapter=5, max_frames=40)
    script = {2: [key(pygame.K_PLUS)], 3: [key(pygame.K_MINUS)] * 6, 10: [key(pygame.K_SPACE)]}
    _request, seen = drive(app, script, watch=lambda app: (app.lesson.ahead, app.lesson.car.world.steps))
    assert seen[2][0] == 1.0 and seen[3][0] == pytest.approx(0.4)
    assert seen[10][1] > 0 and seen[-1][1] == seen[11][1]  # paused: the car stands
    np.testing.assert_array_equal(app.view.drawn["winners"], app.lesson.car.decision_map(0.4))
    assert not np.array_equal(app.lesson.car.decision_map(0.0), app.lesson.car.decision_map(1.0))


@pytest.mark.parametrize(("code", "window"), [(pygame.K_e, "sim"), (pygame.K_d, "drive")])
def test_chapter_six_asks_for_the_sim_and_drive_windows(setting, code, window):
    app = make_app(setting, chapter=6, max_frames=50)
    request, _seen = drive(app, {2: [key(code)]})
    assert request == window and app.shell.frame_count == 3  # the window closes in the frame that saw the key


def test_cli_lesson_window_and_its_bad_input(run_cli, tmp_path, monkeypatch):
    shot = tmp_path / "lesson.png"
    result = run_cli("lesson", "--lang", "es", "--chapter", "4", "--frames", "2", "--screenshot", shot)
    assert result.code == 0, result.err
    assert pygame.image.load(str(shot)).get_size() == (1280, 800)

    def refuse(*args, **kwargs):
        raise AssertionError("the window was opened before the input was checked")

    monkeypatch.setattr(pygame.display, "set_mode", refuse)
    result = run_cli("lesson", "--chapter", "7")
    assert (result.code, result.err) == (2, "neurocar: error: --chapter 7: choose a chapter from 1 to 6\n")
    result = run_cli("lesson", "--screenshot", tmp_path / "shot.jpg")
    assert result.err.startswith("neurocar: error: --screenshot") and result.code == 2
    result = run_cli("lesson", "--frames", "0")
    assert result.err == "neurocar: error: --frames 0: must be at least 1\n"


def test_no_display_is_the_windows_one_line_error(run_cli, monkeypatch):
    monkeypatch.delenv("SDL_VIDEODRIVER")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = run_cli("lesson", "--frames", "1")
    assert result.code == 2
    assert result.err.startswith("neurocar: error: no display") and result.err.count("\n") == 1
    assert "SDL_VIDEODRIVER=dummy" in result.err


def test_e_in_chapter_six_runs_the_sim_window_then_comes_back(run_cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    openings = []
    original = lesson_app.LessonApp.run

    def run(self):
        openings.append(self.lesson.chapter)
        if len(openings) == 1:
            self.shell.before_frame = lambda: self.shell.frame_count == 1 and pygame.event.post(key(pygame.K_e))
        return original(self)

    monkeypatch.setattr(lesson_app.LessonApp, "run", run)
    calls = []
    import neurocar.cli

    real_main = neurocar.cli.main

    def main(arguments):
        calls.append(arguments)
        return real_main(arguments)

    monkeypatch.setattr(neurocar.cli, "main", main)
    result = run_cli("lesson", "--chapter", "6", "--frames", "3", "--set", "episode.max_seconds=3")
    assert result.code == 0, result.err
    assert calls == [["sim", "--seed", "0", "--set", "episode.max_seconds=3", "--frames", "3"]]
    assert openings == [6, 6]  # the lesson came back at the last chapter


@pytest.mark.parametrize(
    ("language", "names"), [("en", ("left", "ahead", "right")), ("es", ("izquierda", "delante", "derecha"))]
)
def test_the_lesson_names_and_lists_the_sensors_like_every_window(setting, language, names):
    app = make_app(setting, chapter=2, language=language, max_frames=3)
    drive(app, {})
    car = app.lesson.car
    left, ahead, right = names
    shown = [app.view.sensor_labels[slot] for slot in (car.slots.left, car.slots.ahead, car.slots.right)]
    assert shown == [f"{left} 45°", ahead, f"{right} 45°"]
    # x1 is the car's leftmost ray, and the written sum starts with it.
    neuron = app.lesson.weighted_sum
    assert neuron.order == (car.slots.left, car.slots.ahead, car.slots.right, 3) and neuron.chosen == car.slots.left
    readings = car.readings
    first_term = app.view.drawn["equation"].split(" ")[0]
    assert first_term.endswith(number(float(readings[car.slots.left])))
