"""The track editor: the document model (points, undo, YAML), where track errors are, the controller driven by
input events without a window, the window driven by posted mouse and key events (under the dummy video driver) with
what it draws, and `neurocar edit` on good, new and broken files and under a stop signal."""

from __future__ import annotations

import math
import os
import signal
from dataclasses import replace
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
from neurocar.paths import TRACKS_DIR, display_path
from neurocar.sim.track import TrackError, load_track, track_from_data
from neurocar.sim.track_document import STARTER_LOOP, TrackDocument, free_track_path, name_from_path
from neurocar.ui import theme
from neurocar.ui.editor_app import EditorApp
from neurocar.ui.editor_controller import NAME_LIMIT, EditorController
from neurocar.ui.text_layout import text_width

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "tracks"
SQUARE = ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0))


def document_with(points=SQUARE, **changes) -> TrackDocument:
    data = {"name": "Test", "difficulty": 2, "width_m": 12, "centerline": [list(point) for point in points]}
    return TrackDocument.from_data({**data, **changes}, "test.yaml")


def replace_window(config: Config, size: tuple[int, int]) -> Config:
    return replace(config, window=replace(config.window, width=size[0], height=size[1]))


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


# --- the controller: input to document commands, no window ---------------------------------------------------------


CTRL = pygame.KMOD_LCTRL
SHIFT = pygame.KMOD_LSHIFT
VIEWPORT = (0, 40, 900, 760)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def controller_for(config: Config, path: Path, document: TrackDocument | None = None, **options) -> EditorController:
    document = document if document is not None else TrackDocument.new(path)
    controller = EditorController(config, document, path, clock=FakeClock(), **options)
    controller.set_viewport(VIEWPORT)
    return controller


def click(controller: EditorController, world, button: int = 1) -> None:
    spot = controller.screen_at(world)
    controller.mouse_down(spot, button)
    controller.mouse_up(spot, button)


def drag(controller: EditorController, start_world, *world_points) -> None:
    controller.mouse_down(controller.screen_at(start_world), 1)
    for point in world_points:
        controller.mouse_move(controller.screen_at(point))
    controller.mouse_up(controller.screen_at(world_points[-1]), 1)


def type_text(controller: EditorController, text: str) -> None:
    for character in text:
        controller.key_down(0, 0, character)


def test_click_drag_undo_and_save(config, tmp_path):
    path = tmp_path / "drawn.yaml"
    controller = controller_for(config, path)
    clicked = (20.0, -4.0)  # beside the bottom straight, between points 0 and 1
    click(controller, clicked)
    assert controller.notices[-1] == "point 2 added" and controller.selected == 1
    drag(controller, (80.0, 25.0), (90.0, 30.0), (95.0, 30.0))  # point 3 before the insertion, now point 4
    assert controller.document.points[4] == pytest.approx((95.0, 30.0), abs=0.5)
    assert controller.key_down(pygame.K_z, CTRL)  # the whole drag is one step
    assert controller.key_down(pygame.K_s, CTRL)
    saved = load_yaml(path.read_text(encoding="utf-8"))
    assert len(saved["centerline"]) == len(STARTER_LOOP) + 1
    assert saved["centerline"][1] == pytest.approx(list(clicked), abs=0.35)
    assert saved["centerline"][4] == [80.0, 25.0]
    assert load_track(path).name == "Drawn" and not controller.document.dirty
    assert controller.changes_label == "saved" and controller.notices[-1] == f"saved {display_path(path)}"


def test_a_drag_is_checked_a_few_times_a_second_and_when_let_go(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    clock = controller.clock
    controller.mouse_down(controller.screen_at(STARTER_LOOP[7]), 1)
    controller.mouse_move(controller.screen_at((-60.0, 105.0)))
    controller.update()
    assert not controller.current  # checked moments ago (when the point was picked): not yet
    clock.now += 0.31
    controller.update()
    assert controller.current
    controller.mouse_move(controller.screen_at((-60.0, 110.0)))
    assert not controller.current
    controller.mouse_up(controller.screen_at((-60.0, 110.0)), 1)
    assert controller.current and controller.track is not None


def test_right_click_deletes_and_right_drag_pans_without_deleting(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    click(controller, STARTER_LOOP[1], button=3)
    assert (
        len(controller.document.points) == len(STARTER_LOOP) - 1 and STARTER_LOOP[1] not in controller.document.points
    )
    before = controller.world_at((300, 300))
    controller.mouse_down((300, 300), 3)
    controller.mouse_move((340, 320), (40, 20))
    controller.mouse_up((340, 320), 3)
    assert controller.world_at((340, 320)) == pytest.approx(before)  # the ground followed the mouse
    assert len(controller.document.points) == len(STARTER_LOOP) - 1


def test_the_wheel_zooms_at_the_mouse_and_keys_zoom_pan_and_fit(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    scale = controller.camera.scale
    controller.mouse_move((340, 320))
    under = controller.world_at((340, 320))
    controller.wheel(2)
    assert controller.camera.scale == pytest.approx(scale * 1.15**2)
    assert controller.world_at((340, 320)) == pytest.approx(under)
    controller.key_down(pygame.K_MINUS)
    assert controller.camera.scale == pytest.approx(scale * 1.15)
    left = controller.world_at((450, 420))
    controller.key_down(pygame.K_RIGHT)
    assert controller.world_at((450, 420))[0] > left[0]  # the view moved right over the ground
    controller.key_down(pygame.K_f)
    assert controller.camera.scale == pytest.approx(scale)


def test_a_new_window_size_keeps_the_zoom_and_the_middle_of_the_view(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    controller.wheel(3)
    scale, middle = controller.camera.scale, controller.world_at((450, 420))
    controller.set_viewport((0, 30, 500, 540))
    assert controller.camera.scale == scale and controller.world_at((250, 300)) == pytest.approx(middle)
    controller.set_viewport((0, 30, 500, 540), fit=True)
    assert controller.camera.scale < scale
    assert not controller.contains((250, 10)) and controller.contains((250, 300))
    controller.mouse_down((250, 10), 1)  # a click on the header adds nothing
    assert len(controller.document.points) == len(STARTER_LOOP)


def test_keys_change_width_difficulty_start_and_direction(config, tmp_path):
    controller = controller_for(config, tmp_path / "night.yaml")
    for code in (pygame.K_RIGHTBRACKET, pygame.K_RIGHTBRACKET, pygame.K_LEFTBRACKET, pygame.K_4):
        assert controller.key_down(code)
    controller.key_down(pygame.K_TAB)
    controller.key_down(pygame.K_TAB)
    controller.key_down(pygame.K_s)
    controller.key_down(pygame.K_r)
    values = controller.document.values
    assert values.width_m == 12.5 and values.difficulty == 4
    assert values.points == tuple(reversed(STARTER_LOOP)) and values.points[values.start_index] == STARTER_LOOP[1]
    assert values.points[controller.selected] == STARTER_LOOP[1]  # the selection stays on its point
    assert controller.track is not None and controller.problem is None
    controller.key_down(pygame.K_TAB, SHIFT)  # the previous point in the new driving direction
    assert values.points[controller.selected] == STARTER_LOOP[2]
    controller.key_down(pygame.K_DELETE)
    assert STARTER_LOOP[2] not in controller.document.points and len(controller.document.points) == 12


def test_rename_replaces_the_whole_name(config, tmp_path):
    controller = controller_for(config, tmp_path / "night.yaml")
    assert controller.document.values.name == "Night"
    controller.key_down(pygame.K_n)
    assert controller.naming == "Night" and controller.name_field.all_selected
    type_text(controller, "Loop")
    assert controller.naming == "Loop"
    controller.key_down(pygame.K_s, 0, "s")  # while typing, keys are letters, not commands
    assert controller.naming == "Loops" and controller.document.values.start_index == 0
    controller.key_down(pygame.K_RETURN)
    assert controller.document.values.name == "Loops" and controller.naming is None
    assert controller.notices[-1] == "renamed to Loops"


def test_rename_can_edit_the_name_be_cancelled_and_never_empties_it(config, tmp_path):
    controller = controller_for(config, tmp_path / "night.yaml")
    controller.key_down(pygame.K_n)
    controller.key_down(pygame.K_END)  # keep the name, type at its end
    controller.key_down(pygame.K_BACKSPACE)
    type_text(controller, "ce")
    controller.key_down(pygame.K_HOME)
    type_text(controller, "A ")
    controller.key_down(pygame.K_KP_ENTER)
    assert controller.document.values.name == "A Nighce"
    controller.key_down(pygame.K_n)
    type_text(controller, "Something else")
    controller.key_down(pygame.K_ESCAPE)  # cancels the field, does not ask to quit
    assert controller.document.values.name == "A Nighce" and not controller.quit_armed
    controller.key_down(pygame.K_n)
    controller.key_down(pygame.K_BACKSPACE)  # the selected name goes at once
    assert controller.naming == ""
    controller.key_down(pygame.K_RETURN)
    assert controller.document.values.name == "A Nighce"
    assert controller.notices[-1] == "the name stays: a track needs a name"


def test_a_long_name_is_typed_whole_up_to_the_limit(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    long_name = "The Very Long Grand Prix Circuit Of The Northern Hills 2026"
    controller.key_down(pygame.K_n)
    type_text(controller, long_name + "x" * 100)
    controller.key_down(pygame.K_RETURN)
    name = controller.document.values.name
    assert name.startswith(long_name) and len(name) == NAME_LIMIT
    assert controller.save() and load_track(tmp_path / "t.yaml").name == name


def test_an_invalid_track_is_refused_with_its_reason_and_the_file_is_unchanged(config, tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text((TRACKS_DIR / "oval.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    before = path.read_bytes()
    document = TrackDocument.from_text(path.read_text(), str(path))
    controller = controller_for(config, path, document)
    points = controller.document.points
    drag(controller, points[5], points[len(points) // 2 + 5])  # across the loop: it crosses itself or folds
    assert not controller.save()
    assert path.read_bytes() == before
    assert controller.problem is not None and controller.document.dirty
    assert controller.notices[-1] == f"Not saved (the panel says why and how to fix it): {controller.problem_text}"
    controller.key_down(pygame.K_t)
    assert controller.test_drive is None and controller.notices[-1].startswith("No test drive (the panel says why): ")


def test_a_tight_curve_made_by_dragging_is_marked_where_it_is(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    drag(controller, STARTER_LOOP[1], (0.0, 40.0))  # the end of the bottom straight pulled back into the loop
    assert controller.problem is not None and "too tight" in controller.problem_text
    assert math.dist(controller.problem.position, controller.document.points[1]) < 8.0


def test_escape_with_unsaved_changes_asks_first_then_discards(config, tmp_path):
    path = tmp_path / "t.yaml"
    controller = controller_for(config, path)
    controller.key_down(pygame.K_ESCAPE)
    assert controller.closed and not controller.discarded  # nothing to lose: quits at once
    controller = controller_for(config, path)
    controller.key_down(pygame.K_RIGHTBRACKET)
    controller.key_down(pygame.K_ESCAPE)
    assert controller.quit_armed and not controller.closed and "Esc again" in controller.quit_warning
    controller.key_down(pygame.K_RIGHTBRACKET)  # a change calls the quit off
    assert not controller.quit_armed
    controller.key_down(pygame.K_ESCAPE)
    controller.key_down(pygame.K_ESCAPE)
    assert controller.closed and controller.discarded
    assert controller.keep_unsaved_edits() is None and not path.exists()


def test_closing_the_window_twice_keeps_the_edits_in_a_recovery_copy(config, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text((TRACKS_DIR / "oval.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    before = path.read_bytes()
    (tmp_path / "mine.recovered.yaml").write_text("an older copy\n")
    controller = controller_for(config, path, TrackDocument.from_text(path.read_text(), "mine.yaml"))
    assert "mine.recovered.yaml" in controller.notices[0]  # said when the editor opens
    controller.key_down(pygame.K_LEFTBRACKET)
    controller.close_window()
    assert controller.quit_armed and not controller.closed and "recovery copy" in controller.quit_warning
    controller.close_window()
    assert controller.closed
    kept = controller.keep_unsaved_edits()
    assert kept == tmp_path / "mine.recovered-2.yaml"
    assert (tmp_path / "mine.recovered.yaml").read_text() == "an older copy\n" and path.read_bytes() == before
    reopened = TrackDocument.from_text(kept.read_text(encoding="utf-8"), kept.name)
    assert reopened.values == controller.document.values


def test_every_key_binding_runs_its_command_and_is_in_the_help(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    bindings = controller.bindings
    labels = " ".join(binding.label for binding in bindings)
    for name in ("Left click", "drag", "Right click", "Wheel", "Delete", "[ / ]", "S", "R", "1 - 5", "N", "T"):
        assert name in labels
    for name in ("Ctrl+Z", "Ctrl+Y", "Ctrl+Shift+Z", "Ctrl+S", "Esc", "arrows", "+ / -", "F"):
        assert name in labels
    chords = [(chord, binding) for binding in bindings for chord in binding.chords]
    assert len({(chord.key, chord.ctrl, chord.shift) for chord, _binding in chords}) == len(chords)
    for chord, binding in chords:
        assert binding.action is not None and (binding.help or binding.label == "")
        modifiers = (CTRL if chord.ctrl else 0) | (SHIFT if chord.shift else 0)
        others = [other for other, _ in chords if other is not chord and other.matches(chord.key, modifiers)]
        assert not others  # one key press, one command
    assert not controller.key_down(pygame.K_q) and not controller.key_down(pygame.K_r, CTRL)


def test_redo_with_control_y_and_control_shift_z(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    controller.key_down(pygame.K_RIGHTBRACKET)
    controller.key_down(pygame.K_RIGHTBRACKET)
    controller.key_down(pygame.K_z, CTRL)
    controller.key_down(pygame.K_z, CTRL)
    assert controller.document.values.width_m == 12.0 and controller.notices[-1] == "undone"
    controller.key_down(pygame.K_y, CTRL)
    controller.key_down(pygame.K_z, CTRL | SHIFT)
    assert controller.document.values.width_m == 13.0 and not controller.document.can_redo
    controller.key_down(pygame.K_y, CTRL)
    assert controller.notices[-1] == "nothing to redo"


def test_test_drive_runs_the_autopilot_in_real_time_and_stops_on_a_change(config, tmp_path):
    controller = controller_for(config, tmp_path / "t.yaml")
    controller.key_down(pygame.K_t)
    drive = controller.test_drive
    for _ in range(20):
        controller.clock.now += 0.1
        controller.update()
    # 2 s of frames at dt 0.05 s are 40 steps (a slow frame never asks for more than 0.25 s of catch-up)
    state = drive.world.state
    assert drive.world.steps == 40 and not state.crashed[0]
    assert float(state.progress_m[0]) == pytest.approx(40 * 0.05 * config.physics.cruise_speed_mps, rel=0.1)
    controller.clock.now += 10.0
    controller.update()
    assert drive.world.steps == 45
    controller.key_down(pygame.K_RIGHTBRACKET)
    assert controller.test_drive is None and controller.notices[-1] == "the track changed: test drive stopped"


# --- the window: the controller and the view on a real (dummy) display ---------------------------------------------


def key(code: int, modifiers: int = 0, text: str = "") -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=modifiers, unicode=text, scancode=0)


def press(position, button: int = 1) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=tuple(position), button=button)


def release(position, button: int = 1) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEBUTTONUP, pos=tuple(position), button=button)


def motion(position, rel=(0, 0), buttons=(1, 0, 0)) -> pygame.event.Event:
    return pygame.event.Event(pygame.MOUSEMOTION, pos=tuple(position), rel=tuple(rel), buttons=buttons)


def run_app(app: EditorApp, script) -> dict:
    """Run the window; `script(app)` returns the events to post before each frame. Returns the pictures of the
    window after each frame, by frame number."""
    shots = {}

    def before(current: EditorApp) -> None:
        if current.shell.screen is not None and current.frame_count:
            shots[current.frame_count] = current.shell.screen.copy()
        for event in script(current) or []:
            pygame.event.post(event)

    app.before_frame = before
    assert app.run() == 0
    return shots


LONG_NAME = "The Very Long Grand Prix Circuit Of The Northern Hills 2026!"  # 60 characters


def test_the_window_drives_the_editor_through_its_keys_and_mouse(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=8)

    def script(app: EditorApp):
        controller = app.controller
        return {
            1: [press(controller.screen_at(STARTER_LOOP[7])), motion(controller.screen_at((-60.0, 110.0)))],
            2: [release(controller.screen_at((-60.0, 110.0)))],
            3: [key(pygame.K_n), *[key(0, 0, character) for character in "Ridge"], key(pygame.K_RETURN)],
            4: [key(pygame.K_s, CTRL)],
        }.get(app.frame_count)

    run_app(app, script)
    saved = load_track(path)
    assert saved.name == "Ridge" and list(saved.control_points[7]) == pytest.approx([-60.0, 110.0], abs=0.35)


def test_h_shows_the_help_made_from_the_bindings_and_esc_closes_it_first(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=50)
    shown = []

    def script(app: EditorApp):
        shown.append(app.show_help)
        return {
            1: [key(pygame.K_h)],
            3: [key(pygame.K_ESCAPE)],
            5: [key(pygame.K_F1)],
            7: [key(pygame.K_ESCAPE)],
            8: [key(pygame.K_ESCAPE)],
        }.get(app.frame_count)

    run_app(app, script)
    assert shown[:9] == [False, False, True, True, False, False, True, True, False]
    assert app.frame_count == 9 and app.controller.closed and app.shell.closed
    listed = [line for line, _help in app.help_lines()]
    assert "H or F1" in listed and "Ctrl+S" in listed and "N" in listed and "" not in listed
    assert listed.count("Esc") == 1 and listed[-1] == "Esc" and "asks first" in app.help_lines()[-1][1]
    assert len(listed) == len({binding.label for binding in app.controller.bindings if binding.help}) + 1


def test_the_header_stays_readable_zoomed_in_over_the_road(config, tmp_path):
    path = tmp_path / "t.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=4)

    def script(app: EditorApp):
        if app.frame_count == 1:  # zoom far in on the road right under the header
            controller = app.controller
            controller.camera.scale = 40.0
            top = controller.viewport[1]
            spot = controller.screen_at((0.0, 0.0))
            controller.pan(300 - spot[0], top + 5 - spot[1])
        return []

    shots = run_app(app, script)
    picture, header = shots[3], app.layout.header
    road_row = [picture.get_at((x, header.bottom + 3))[:3] for x in range(header.left, header.right, 7)]
    assert theme.ROAD in road_row  # the road runs under the header...
    behind = [picture.get_at((x, y))[:3] for x in range(header.left, header.right, 5) for y in (2, header.height - 3)]
    assert theme.ROAD not in behind and behind.count(theme.PANEL) > 0.8 * len(behind)  # ...and the bar covers it


@pytest.mark.parametrize("size", [(1280, 800), (800, 600)])
def test_a_long_name_and_a_refused_save_stay_inside_their_places(config, tmp_path, size):
    path = tmp_path / "t.yaml"
    document = document_with(points=STARTER_LOOP, name=LONG_NAME)
    app = EditorApp(replace_window(config, size), document, path, max_frames=5)

    def script(app: EditorApp):
        if app.frame_count == 1:  # a spike the loader refuses, then Ctrl+S: the long reason is a notice
            controller = app.controller
            return [
                press(controller.screen_at(STARTER_LOOP[1])),
                motion(controller.screen_at((0.0, 40.0))),
                release(controller.screen_at((0.0, 40.0))),
                key(pygame.K_s, CTRL),
            ]
        return []

    shots = run_app(app, script)
    picture, layout = shots[4], app.layout
    assert picture.get_size() == size and not path.exists()
    message = app.notices.messages[-1][0]
    assert message.startswith("Not saved (the panel says why") and len(message) > 100
    strip = layout.notices
    shown = {
        picture.get_at((x, y))[:3] for x in range(strip.left, strip.right, 2) for y in range(strip.top, strip.bottom)
    }
    assert theme.TEXT in shown and not layout.stage.colliderect(strip)  # the notice is in its strip, under the track
    above = {picture.get_at((x, strip.top - 2))[:3] for x in range(strip.left, strip.right, 2)}
    assert theme.TEXT not in above  # and it stays there, however long it is
    name, rest = app.view.header_text(app.controller, layout)
    assert text_width(app.texts, name + rest, layout.text_size) <= layout.header.width - 2 * theme.MARGIN
    assert name.startswith("The Very Long")
    # Nothing is drawn in the gap at the panel's left edge nor in the right margin: no text ran out of its place.
    panel = layout.panel
    for x in (*range(panel.left + 1, panel.left + theme.MARGIN - 1), *range(size[0] - theme.MARGIN + 1, size[0])):
        column = {picture.get_at((x, y))[:3] for y in range(0, size[1], 2)}
        assert column == {theme.BACKGROUND}, x


def test_the_name_field_shows_the_selected_name_over_the_view(config, tmp_path):
    path = tmp_path / "night.yaml"
    app = EditorApp(config, TrackDocument.new(path), path, max_frames=4)
    shots = run_app(app, lambda app: [key(pygame.K_n)] if app.frame_count == 1 else [])
    picture, view = shots[3], app.layout.view
    centre_row = [picture.get_at((x, view.centery))[:3] for x in range(view.left, view.right)]
    assert centre_row.count(theme.ACCENT) > 20  # the box's edge and the highlighted (selected) name
    assert app.controller.naming == "Night"


def test_a_stop_signal_keeps_the_unsaved_edits_beside_the_track(in_tmp_path, capsys, monkeypatch):
    (in_tmp_path / "mine.yaml").write_text((TRACKS_DIR / "oval.yaml").read_text(encoding="utf-8"))
    before = (in_tmp_path / "mine.yaml").read_bytes()

    def run_and_stop(self):
        def before_frame(app: EditorApp) -> None:
            if app.frame_count == 1:
                app.controller.key_down(pygame.K_RIGHTBRACKET)
            if app.frame_count == 2:
                os.kill(os.getpid(), signal.SIGTERM)

        self.before_frame = before_frame
        return original(self)

    original = EditorApp.run
    monkeypatch.setattr(EditorApp, "run", run_and_stop)
    assert main(["edit", "mine.yaml", "--frames", "50"]) == 128 + signal.SIGTERM
    captured = capsys.readouterr()
    assert "unsaved changes kept in mine.recovered.yaml" in captured.out
    assert captured.err.strip() == "neurocar: stopped by SIGTERM"
    assert (in_tmp_path / "mine.yaml").read_bytes() == before
    kept = load_track(in_tmp_path / "mine.recovered.yaml")
    assert kept.width_m == load_track(in_tmp_path / "mine.yaml").width_m + 0.5


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
