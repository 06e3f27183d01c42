"""The track editor: the document model (points, undo, YAML), where track errors are, the window driven by posted
mouse and key events (under the dummy video driver), and `neurocar edit` on good, new and broken files."""

from __future__ import annotations

import math
import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest
from checkout import PROJECT_ROOT

from neurocar.cli import main
from neurocar.config import Config, load_yaml
from neurocar.errors import NeuroCarError
from neurocar.paths import TRACKS_DIR
from neurocar.sim.track import TrackError, load_track, track_from_data
from neurocar.sim.track_document import STARTER_LOOP, TrackDocument, free_track_path, name_from_path
from neurocar.ui.editor_app import EditorApp

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "tracks"
SQUARE = ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0))


def document_with(points=SQUARE, **changes) -> TrackDocument:
    data = {"name": "Test", "difficulty": 2, "width_m": 12, "centerline": [list(point) for point in points]}
    return TrackDocument.from_data({**data, **changes}, "test.yaml")


def build(document: TrackDocument, config: Config):
    physics = config.physics
    return document.build("test.yaml", physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m)


# --- the document ------------------------------------------------------------------------------------------------


def test_points_are_appended_until_three_then_inserted_into_the_nearest_side():
    document = document_with(points=())
    assert [document.add_point(point) for point in ((0, 0), (50, 0), (50, 50))] == [0, 1, 2]
    # (25, -3) is nearest the side 0-1: it goes between them; (-3, 25) nearest the closing side 2-0: at the end.
    assert document.add_point((25.0, -3.0)) == 1
    assert document.add_point((-3.0, 25.0)) == 4
    assert document.points == ((0, 0), (25, -3), (50, 0), (50, 50), (-3, 25))


def test_the_start_stays_on_its_point_when_points_come_and_go():
    document = document_with(start_index=2)
    document.insert_point(1, (50.0, -5.0))
    assert document.values.start_index == 3 and document.points[3] == (100.0, 100.0)
    document.delete_point(0)
    assert document.values.start_index == 2 and document.points[2] == (100.0, 100.0)
    document.delete_point(2)  # the start point itself: the next point becomes the start
    assert document.points[document.values.start_index] == (0.0, 100.0)
    document.set_start(1)
    assert document.values.start_index == 1


def test_move_delete_undo_and_redo_many_levels():
    document = document_with()
    original = document.values
    document.move_point(1, (110.0, -10.0))
    document.delete_point(3)
    document.change_width(+2)
    assert document.points == ((0, 0), (110, -10), (100, 100)) and document.values.width_m == 13.0
    assert document.undo() and document.undo() and document.undo()
    assert document.values == original and not document.undo()
    assert document.redo() and document.redo()
    assert document.points == ((0, 0), (110, -10), (100, 100)) and document.values.width_m == 12.0
    document.set_difficulty(4)  # a new change forgets what could be redone
    assert not document.can_redo and not document.redo()


def test_a_drag_is_one_undo_step_however_far_it_goes():
    document = document_with()
    token = object()
    for step in range(1, 20):
        document.move_point(2, (100.0 + step, 100.0 + step), drag=token)
    document.end_merge()
    document.move_point(2, (150.0, 150.0), drag=object())
    assert document.undo() and document.points[2] == (119.0, 119.0)
    assert document.undo() and document.points[2] == (100.0, 100.0)
    assert not document.can_undo


def test_adding_a_point_and_dragging_it_is_one_undo_step():
    document = document_with()
    token = object()
    index = document.add_point((50.0, -2.0), drag=token)
    document.move_point(index, (50.0, -8.0), drag=token)
    assert document.points[index] == (50.0, -8.0)
    assert document.undo() and document.points == SQUARE


def test_width_moves_in_half_metres_within_the_loaders_range():
    document = document_with()
    document.change_width(+1)
    assert document.values.width_m == 12.5
    document.change_width(-100)
    assert document.values.width_m == 6.0
    document.set_width(99)
    assert document.values.width_m == 30.0


def test_reverse_keeps_the_start_point_and_turns_the_cars_round(config):
    document = TrackDocument.new()
    document.set_start(3)
    before, _ = build(document, config)
    document.reverse()
    after, _ = build(document, config)
    assert document.points[document.values.start_index] == STARTER_LOOP[3]
    assert after.start_position == pytest.approx(before.start_position)
    assert math.cos(after.start_heading - before.start_heading) == pytest.approx(-1.0, abs=0.02)
    assert document.points == tuple(reversed(STARTER_LOOP))


def test_name_difficulty_and_unsaved_state():
    document = document_with()
    assert not document.dirty
    document.set_name("  Night Circuit ")
    document.set_difficulty(5)
    assert document.values.name == "Night Circuit" and document.values.difficulty == 5 and document.dirty
    with pytest.raises(ValueError):
        document.set_difficulty(6)
    document.mark_saved()
    assert not document.dirty
    document.change_width(+1)
    document.undo()
    assert not document.dirty  # back to what was saved


@pytest.mark.parametrize("name", ["classic", "oval", "hairpins"])
def test_yaml_round_trip_gives_the_shipped_file_back(name):
    text = (TRACKS_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    document = TrackDocument.from_text(text, f"{name}.yaml")
    assert document.to_yaml() == text
    assert load_yaml(document.to_yaml()) == load_yaml(text)


def test_saved_yaml_rounds_to_a_tenth_of_a_metre_and_quotes_names():
    document = document_with(points=((0.04, -0.04), (100.06, 0.0), (100.0, 99.95), (0.0, 100.0)), name="A: B")
    text = document.to_yaml()
    assert "  - [0.0, 0.0]\n  - [100.1, 0.0]\n  - [100.0, 100.0]\n" in text
    data = load_yaml(text)
    assert data["name"] == "A: B" and data["width_m"] == 12 and data["start_index"] == 0
    assert list(data) == ["name", "difficulty", "width_m", "centerline", "start_index"]


def test_new_tracks_are_valid_and_named_after_their_file(config, tmp_path):
    document = TrackDocument.new(tmp_path / "night_circuit-2.yaml")
    assert document.values.name == "Night Circuit 2" and not document.dirty
    track, problem = build(document, config)
    assert problem is None and track.length_m > 400
    assert name_from_path("a_b.yaml") == "A B"
    (tmp_path / "new_track.yaml").write_text("x")
    assert free_track_path(tmp_path) == tmp_path / "new_track-2.yaml"


def test_invalid_values_open_for_fixing_but_points_must_be_numbers():
    data = {"centerline": [[0, 0], [1, 0], [1, 1]], "width_m": 3, "difficulty": 9}
    document = TrackDocument.from_data(data, "a.yaml")
    assert document.values.width_m == 3.0 and document.values.difficulty == 9 and document.values.name == "A"
    with pytest.raises(NeuroCarError, match=r"b\.yaml: centerline\[1\]: expected a pair of numbers"):
        TrackDocument.from_data({"centerline": [[0, 0], [1, "ten"]]}, "b.yaml")
    with pytest.raises(NeuroCarError, match=r"c\.yaml: not valid YAML at line \d+; fix it in a text editor"):
        TrackDocument.from_text("name: x\ncenterline: [[0, 0]\n", "c.yaml")


# --- where the problem is ----------------------------------------------------------------------------------------


def test_a_too_tight_curve_is_located_near_the_curve(config):
    # A wide rectangle with one corner pulled into a sharp spike at (150, 60).
    points = ((0.0, 0.0), (100.0, 0.0), (150.0, 60.0), (145.0, 0.0), (200.0, 0.0), (200.0, 100.0), (0.0, 100.0))
    track, problem = build(document_with(points=points), config)
    assert track is None and "too tight" in str(problem)
    assert math.dist(problem.position, (150.0, 60.0)) < 8.0


def test_a_curve_the_car_cannot_turn_is_located(config):
    data = load_yaml((FIXTURES / "too_tight_for_car.yaml").read_text(encoding="utf-8"))
    physics = config.physics
    with pytest.raises(TrackError) as error:
        track_from_data(data, "t", physics.min_turn_radius_m, physics.collision_radius_m, physics.car_width_m)
    assert "too tight for the car to turn" in str(error.value)
    corners = np.asarray(data["centerline"], dtype=np.float64)
    assert np.min(np.hypot(*(corners - np.asarray(error.value.position)).T)) < 10.0


def test_crossings_are_located_where_they_cross():
    figure_eight = load_yaml((FIXTURES / "figure_eight.yaml").read_text(encoding="utf-8"))
    with pytest.raises(TrackError, match="crosses itself") as error:
        track_from_data(figure_eight, "t")
    assert math.dist(error.value.position, (30.0, 30.0)) < 6.0  # (0,0)-(60,60) meets (60,0)-(0,60) at (30, 30)
    bow_tie = load_yaml((FIXTURES / "walls_cross.yaml").read_text(encoding="utf-8"))
    with pytest.raises(TrackError, match="the walls cross") as error:
        track_from_data(bow_tie, "t")
    x, y = error.value.position
    assert abs(x) < 30.0 and abs(y) < 6.0  # at the waist, where the two halves pass 10 m apart


def test_problems_without_a_place_have_no_position():
    with pytest.raises(TrackError) as error:
        track_from_data({"name": "x", "difficulty": 1, "width_m": 12, "centerline": [[0, 0]]}, "t")
    assert error.value.position is None


# --- the window ----------------------------------------------------------------------------------------------------


def key(code: int, modifiers: int = 0, text: str = "") -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=modifiers, unicode=text, scancode=0)


def press(position, button: int = 1) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=tuple(position), button=button)


def release(position, button: int = 1) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEBUTTONUP, pos=tuple(position), button=button)


def motion(position, rel=(0, 0), buttons=(1, 0, 0)) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEMOTION, pos=tuple(position), rel=tuple(rel), buttons=buttons)


def on_screen(app: EditorApp, world_point) -> tuple[int, int]:
    x, y = app.camera.to_screen(np.asarray(world_point, dtype=np.float64))
    return round(float(x)), round(float(y))


def run_app(app: EditorApp, script) -> list:
    """Run the window; `script(app)` returns the events to post before each frame (and may record things)."""
    seen = []

    def before(current: EditorApp) -> None:
        for event in script(current) or []:
            pygame.event.post(event)
        seen.append(current.document.revision)

    app.before_frame = before
    assert app.run() == 0
    return seen


def open_app(config: Config, path: Path, frames: int = 30, document: TrackDocument | None = None) -> EditorApp:
    document = document if document is not None else TrackDocument.from_text(path.read_text(), str(path))
    return EditorApp(config, document, path, max_frames=frames)


CTRL = pygame.KMOD_LCTRL


def test_click_drag_undo_and_save_in_the_window(config, tmp_path):
    path = tmp_path / "drawn.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=14)
    clicked = (20.0, -4.0)  # beside the bottom straight, between points 0 and 1

    def script(app: EditorApp):
        frame = app.frame_count
        if frame == 1:  # click on empty ground: a new point
            return [press(on_screen(app, clicked)), release(on_screen(app, clicked))]
        if frame == 3:  # drag point 3 (80, 25 before the insertion shifted it to index 4) outwards
            return [press(on_screen(app, (80.0, 25.0)))]
        if frame == 4:
            return [motion(on_screen(app, (90.0, 30.0))), motion(on_screen(app, (95.0, 30.0)))]
        if frame == 5:
            return [release(on_screen(app, (95.0, 30.0)))]
        if frame == 7:  # undo the drag (one step), then save
            return [key(pygame.K_z, CTRL)]
        if frame == 9:
            return [key(pygame.K_s, CTRL)]
        return []

    run_app(app, script)
    saved = load_yaml(path.read_text(encoding="utf-8"))
    assert len(saved["centerline"]) == len(STARTER_LOOP) + 1
    assert saved["centerline"][1] == pytest.approx(list(clicked), abs=0.35)  # a pixel is about 0.3 m here
    assert saved["centerline"][4] == [80.0, 25.0]  # the drag was undone
    track = load_track(
        path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
    )
    assert track.name == "Drawn" and not app.document.dirty


def test_dragging_a_point_moves_it_and_right_click_deletes_one(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=10)
    targets = {}

    def script(app: EditorApp):
        if app.frame_count == 1:
            start, end = on_screen(app, STARTER_LOOP[7]), on_screen(app, (-60.0, 110.0))
            targets["end"] = app.world_at(end)
            return [press(start), motion(end), release(end)]
        if app.frame_count == 3:
            spot = on_screen(app, STARTER_LOOP[1])
            return [press(spot, 3), release(spot, 3)]
        return []

    run_app(app, script)
    points = app.document.points
    assert len(points) == len(STARTER_LOOP) - 1 and STARTER_LOOP[1] not in points
    assert points[6] == pytest.approx(targets["end"])


def test_right_drag_pans_and_the_wheel_zooms_at_the_mouse(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=8)
    seen = {}

    def script(app: EditorApp):
        if app.frame_count == 1:
            seen["before"] = (app.camera.scale, app.world_at((300, 300)))
            return [press((300, 300), 3), motion((340, 320), (40, 20), (0, 0, 1)), release((340, 320), 3)]
        if app.frame_count == 3:
            seen["panned"] = app.world_at((340, 320))
            return [motion((340, 320), (0, 0), (0, 0, 0)), pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=2)]
        if app.frame_count == 5:
            seen["zoomed"] = (app.camera.scale, app.world_at((340, 320)))
        return []

    run_app(app, script)
    scale, world = seen["before"]
    assert seen["panned"] == pytest.approx(world)  # the ground followed the mouse
    assert seen["zoomed"][0] == pytest.approx(scale * 1.15**2)
    assert seen["zoomed"][1] == pytest.approx(world)  # zoomed about the mouse
    assert len(app.document.points) == len(STARTER_LOOP)  # a right drag deletes nothing


def test_keys_change_width_difficulty_start_direction_and_name(config, tmp_path):
    path = tmp_path / "night.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=12)
    script_keys = {
        1: [key(pygame.K_RIGHTBRACKET), key(pygame.K_RIGHTBRACKET), key(pygame.K_LEFTBRACKET), key(pygame.K_4)],
        2: [key(pygame.K_TAB), key(pygame.K_TAB), key(pygame.K_s)],
        3: [key(pygame.K_r)],
        4: [key(pygame.K_n), key(pygame.K_BACKSPACE), key(pygame.K_BACKSPACE)]
        + [key(0, 0, character) for character in "Loop"],
        5: [key(pygame.K_RETURN)],
    }
    run_app(app, lambda app: script_keys.get(app.frame_count))
    values = app.document.values
    assert values.width_m == 12.5 and values.difficulty == 4
    assert values.points == tuple(reversed(STARTER_LOOP)) and values.points[values.start_index] == STARTER_LOOP[1]
    assert values.name == "NigLoop"  # 'Night' (from the file name), Backspace twice, then 'Loop'
    assert app.track is not None and app.problem is None


def test_an_invalid_track_is_refused_with_its_reason_and_the_file_is_unchanged(config, tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text((TRACKS_DIR / "oval.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    before = path.read_bytes()
    app = open_app(config, path, frames=8)
    squeeze = {}

    def script(app: EditorApp):
        if app.frame_count == 1:
            # Pull one point far across the loop: the centre line now crosses itself or folds.
            squeeze["point"] = app.document.points[5]
            target = on_screen(app, app.document.points[len(app.document.points) // 2 + 5])
            return [press(on_screen(app, squeeze["point"])), motion(target), release(target)]
        if app.frame_count == 3:
            return [key(pygame.K_s, CTRL)]
        return []

    run_app(app, script)
    assert path.read_bytes() == before
    assert app.problem is not None and app.document.dirty
    assert any(message.startswith("not saved: ") for message, _until in app.toasts.messages)
    assert app.problem_text in app.toasts.messages[-1][0]


def test_a_tight_curve_made_by_dragging_is_marked_where_it_is(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=6)
    spike = (0.0, 40.0)  # the end of the bottom straight pulled back into the loop: a sharp spike

    def script(app: EditorApp):
        if app.frame_count == 1:
            start, end = on_screen(app, STARTER_LOOP[1]), on_screen(app, spike)
            return [press(start), motion(end), release(end)]
        return []

    run_app(app, script)
    assert app.problem is not None and "too tight" in app.problem_text
    assert math.dist(app.problem.position, app.document.points[1]) < 8.0


def test_escape_with_unsaved_changes_asks_first(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=50)
    armed = []

    def script(app: EditorApp):
        armed.append(app.quit_armed)
        return {1: [key(pygame.K_RIGHTBRACKET)], 3: [key(pygame.K_ESCAPE)], 6: [key(pygame.K_ESCAPE)]}.get(
            app.frame_count
        )

    run_app(app, script)
    assert armed[4] is True and app.closed and app.frame_count == 7
    assert not path.exists()  # quitting never saves


def test_escape_without_changes_quits_at_once_and_help_toggles(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=50)
    shown = []

    def script(app: EditorApp):
        shown.append(app.show_help)
        return {1: [key(pygame.K_h)], 3: [key(pygame.K_F1)], 5: [key(pygame.K_ESCAPE)]}.get(app.frame_count)

    run_app(app, script)
    assert shown[:5] == [False, False, True, True, False]
    assert app.frame_count == 6


def test_help_lists_every_key_the_window_handles():
    listed = " ".join(name for name, _action in EditorApp.help_keys())
    for name in ("Left click", "drag", "Right click", "Wheel", "Delete", "[ / ]", "S", "R", "1 - 5", "N", "T"):
        assert name in listed
    for name in ("Ctrl+Z", "Ctrl+Y", "Ctrl+Shift+Z", "Ctrl+S", "H or F1", "Esc"):
        assert name in listed


def test_redo_with_control_y_and_control_shift_z(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=8)
    script_keys = {
        1: [key(pygame.K_RIGHTBRACKET), key(pygame.K_RIGHTBRACKET)],
        2: [key(pygame.K_z, CTRL), key(pygame.K_z, CTRL)],
        3: [key(pygame.K_y, CTRL)],
        4: [key(pygame.K_z, CTRL | pygame.KMOD_LSHIFT)],
    }
    run_app(app, lambda app: script_keys.get(app.frame_count))
    assert app.document.values.width_m == 13.0 and not app.document.can_redo


def test_test_drive_runs_the_autopilot_round_the_track(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=40)
    progress = []

    def script(app: EditorApp):
        if app.test_world is not None:
            progress.append(float(app.test_world.state.progress_m[0]))
        return [key(pygame.K_t)] if app.frame_count == 1 else []

    run_app(app, script)
    # Each frame lasts at least 1/60 s, so 38 frames are at least 12 steps of 0.75 m.
    assert progress[-1] > 8.0 and not app.test_world.state.crashed[0]


# --- the command line ----------------------------------------------------------------------------------------------


@pytest.fixture
def in_tmp_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("neurocar: error: ")
    return err[0]


def test_edit_opens_a_shipped_track_with_frames_and_screenshot(in_tmp_path):
    shot = in_tmp_path / "editor.png"
    before = (TRACKS_DIR / "classic.yaml").read_bytes()
    assert main(["edit", "classic", "--frames", "3", "--screenshot", str(shot)]) == 0
    assert pygame.image.load(str(shot)).get_size() == (1280, 800)
    assert (TRACKS_DIR / "classic.yaml").read_bytes() == before


@pytest.mark.parametrize("name", ["curve_folds", "walls_cross", "figure_eight", "unknown_key", "too_tight_for_car"])
def test_an_invalid_but_readable_file_opens_for_fixing(in_tmp_path, name):
    assert main(["edit", str(FIXTURES / f"{name}.yaml"), "--out", "fixed.yaml", "--frames", "2"]) == 0
    assert not (in_tmp_path / "fixed.yaml").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_yaml", "not_yaml.yaml: not valid YAML at line 6; fix it in a text editor"),
        ("non_numeric", "non_numeric.yaml: centerline[2]: expected a pair of numbers [x, y], got [100.0, 'ten']"),
        ("empty", "empty.yaml: expected a mapping with name, difficulty, width_m and centerline"),
    ],
)
def test_a_file_that_cannot_be_edited_is_a_one_line_error(in_tmp_path, capsys, monkeypatch, name, message):
    monkeypatch.setattr(pygame.display, "set_mode", lambda *args, **kwargs: pytest.fail("the window opened"))
    assert main(["edit", str(FIXTURES / f"{name}.yaml")]) == 2
    assert message in one_error_line(capsys)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["edit", "--frames", "0"], "--frames 0: must be at least 1"),
        (["edit", "--screenshot", "shot.jpg"], "--screenshot shot.jpg: give a file name ending in .png"),
        (["edit", "track.txt"], "track.txt: give a track file name ending in .yaml"),
        (["edit", "classic", "--out", "copy.json"], "--out copy.json: give a track file name ending in .yaml"),
        (["edit", "--bogus"], "unrecognized arguments: --bogus"),
        (["edit", "--set", "physics.nope=1"], "nope"),
    ],
)
def test_bad_options_are_one_line_errors(in_tmp_path, capsys, monkeypatch, arguments, message):
    monkeypatch.setattr(pygame.display, "set_mode", lambda *args, **kwargs: pytest.fail("the window opened"))
    assert main(arguments) == 2
    assert message in one_error_line(capsys)


def test_a_new_path_opens_the_starter_loop_and_saves_there(in_tmp_path, capsys, monkeypatch):
    def run_and_save(self):
        self.before_frame = lambda app: pygame.event.post(key(pygame.K_s, CTRL)) if app.frame_count == 2 else None
        return original(self)

    original = EditorApp.run
    monkeypatch.setattr(EditorApp, "run", run_and_save)
    assert main(["edit", "tracks_of_mine/night.yaml", "--frames", "4"]) == 0
    assert "saved tracks_of_mine/night.yaml" in capsys.readouterr().out
    saved = load_track(in_tmp_path / "tracks_of_mine" / "night.yaml")
    assert saved.name == "Night" and len(saved.control_points) == len(STARTER_LOOP)


def test_a_new_path_is_not_written_unless_saved(in_tmp_path):
    assert main(["edit", "later.yaml", "--frames", "2"]) == 0
    assert not (in_tmp_path / "later.yaml").exists()


def test_without_a_file_the_first_save_picks_a_free_name(in_tmp_path, capsys, monkeypatch):
    (in_tmp_path / "new_track.yaml").write_text("someone else's file")

    def run_and_save(self):
        self.before_frame = lambda app: pygame.event.post(key(pygame.K_s, CTRL)) if app.frame_count == 1 else None
        return original(self)

    original = EditorApp.run
    monkeypatch.setattr(EditorApp, "run", run_and_save)
    assert main(["edit", "--frames", "3"]) == 0
    assert (in_tmp_path / "new_track.yaml").read_text() == "someone else's file"
    assert load_track(in_tmp_path / "new_track-2.yaml").name == "New Track"


def test_a_shipped_track_is_saved_as_a_copy_in_the_working_folder(in_tmp_path, capsys, monkeypatch):
    def run_and_save(self):
        self.before_frame = lambda app: pygame.event.post(key(pygame.K_s, CTRL)) if app.frame_count == 2 else None
        return original(self)

    original = EditorApp.run
    monkeypatch.setattr(EditorApp, "run", run_and_save)
    before = (TRACKS_DIR / "oval.yaml").read_bytes()
    (in_tmp_path / "oval.yaml").write_text("my own oval\n")
    assert main(["edit", "oval", "--frames", "4"]) == 0
    assert "saved oval-2.yaml" in capsys.readouterr().out
    assert (in_tmp_path / "oval-2.yaml").read_bytes() == before
    assert (in_tmp_path / "oval.yaml").read_text() == "my own oval\n"
    assert (TRACKS_DIR / "oval.yaml").read_bytes() == before


def test_out_never_names_a_file_that_already_exists(in_tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pygame.display, "set_mode", lambda *args, **kwargs: pytest.fail("the window opened"))
    (in_tmp_path / "precious.yaml").write_text("important: data\n")
    assert main(["edit", "hairpins", "--out", "precious.yaml"]) == 2
    assert one_error_line(capsys) == (
        "neurocar: error: --out precious.yaml: already exists; open it with 'neurocar edit precious.yaml' to change "
        "it, or choose another --out"
    )
    assert (in_tmp_path / "precious.yaml").read_text() == "important: data\n"
