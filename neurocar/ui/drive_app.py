"""`neurocar drive`: one car driven with the arrow keys (or by a model, or the autopilot), optionally recorded.

Each physics step, the driver holds steering keys; `keys_to_action` turns them into the action (left alone =
straight). The person presses real keys; the autopilot holds virtual ones through the same path; with a model, the
model drives until a steering key is pressed, and the person keeps control until `TAKEOVER_SECONDS` of simulated
time pass without one. Every recorded frame says who chose its action. Physics runs at the fixed dt in real time
(the window's step budget), drawing at the frame rate with the car interpolated between steps.

Fast mode (`--autopilot --frames N`): no waiting for real time; each frame is exactly one physics step and the
window is drawn only a few times per second, so demonstration data and tests are quick.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.learn.model_file import Model
from neurocar.learn.policy import PopulationPolicy, network_rows
from neurocar.learn.recording import SessionWriter
from neurocar.paths import display_path
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.best_lap import BestLapRecorder
from neurocar.sim.car import ACTION_NAMES, STRAIGHT
from neurocar.sim.replay import ReplayPlayer, ReplayRecorder
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed
from neurocar.ui.drive_panel import bars_height, draw_actions, draw_recording, draw_sensors
from neurocar.ui.ghosts import GhostCars
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot, network_snapshot
from neurocar.ui.shell import scaled
from neurocar.ui.steering import STEERING_KEYS, SteeringKeys, action_to_keys, keys_to_action

__all__ = ["STEERING_KEYS", "DriveApp", "action_to_keys", "keys_to_action", "last_checkpoint_progress"]

TAKEOVER_SECONDS = 1.0  # with --model: the person keeps control this long after the last steering key
REMOVE_SECONDS = 3.0  # Backspace removes this much of the latest driving from the recording
# A person drives for as long as they like: the world never stops the car for time or for circling.
ENDLESS_S = 1e12


def last_checkpoint_progress(track: Track, progress_m: float) -> float:
    """Net progress [m] of the last checkpoint gate at or behind `progress_m` (the start, 0, if behind it)."""
    if progress_m <= 0:
        return 0.0
    lap_start = math.floor(progress_m / track.length_m) * track.length_m
    gates = lap_start + track.checkpoint_arcs_m
    return float(gates[gates <= progress_m + 1e-9].max())


class DriveApp(WindowApp):
    """The drive window: one car, its rays and readings, the recording status."""

    help_title = "NeuroCar - drive"

    def __init__(
        self,
        config: Config,
        track: Track,
        *,
        writer: SessionWriter | None = None,
        model: Model | None = None,
        autopilot: bool = False,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        speed: float = 1.0,
        recorder: ReplayRecorder | None = None,
        ghosts: list[ReplayPlayer] | None = None,
    ) -> None:
        self.fast = autopilot and max_frames is not None
        self.step_limit = max_frames if self.fast else None
        self.writer = writer
        self.model = model
        self.autopilot = Autopilot(track, config.physics) if autopilot else None
        super().__init__(
            config, track, max_frames=None if self.fast else max_frames, screenshot=screenshot, speed=speed
        )
        self.policy: PopulationPolicy | None = None
        if model is not None:
            self.policy = PopulationPolicy(model.network)
            self.policy.set_parameters(network_rows(model.network))
        episode = dataclasses.replace(config.episode, max_seconds=ENDLESS_S, stall_seconds=ENDLESS_S)
        self.world = World(track, config.physics, config.sensors, episode, population=1)
        self.world.reset()
        self.steering = SteeringKeys()
        self.recorder = recorder
        self.ghosts = GhostCars(ghosts or [])
        self.best_laps: BestLapRecorder | None = None
        self.follow_best_lap = not ghosts  # without --ghost, your best lap so far is the ghost of your next laps
        self._best_lap_shown = 0
        self.person_until_s = -math.inf
        self.current_driver = self.default_driver
        self.last_action = STRAIGHT
        self.histogram = [0, 0, 0]
        self.driven_steps = 0
        self.removed_frames = 0
        self.selected = 0
        self.shell.event_filter = self.steering.handle
        self.reset_poses(self.world)

    @property
    def held(self) -> dict[int, bool]:
        """The steering keys held (action -> held)."""
        return self.steering.held

    @property
    def default_driver(self) -> str:
        """Who drives when no key is pressed: autopilot, model or person."""
        return "autopilot" if self.autopilot else ("model" if self.model is not None else "person")

    def key_bindings(self) -> list[Binding]:
        """Steering (held keys), back to the checkpoint, removing recorded seconds, and the speed keys."""
        takes_over = "; takes over from the model" if self.model else ""
        return [
            Binding("Left / Right", f"steer (no key: straight){takes_over}"),
            Binding("R", "back to the last checkpoint", self.back_to_checkpoint, (pygame.K_r,)),
            Binding(
                "Backspace",
                f"remove the last {REMOVE_SECONDS:g} s from the recording",
                self.remove_recent,
                (pygame.K_BACKSPACE,),
            ),
            *self.speed_bindings(),
        ]

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and drive until Esc (or the frame limit); prints the summary; returns the exit code."""
        self.open_window()
        if self.fast:
            self.pacer.max_speed = True
        try:
            while True:
                self.step_frame()
        except WindowClosed:
            pass
        finally:
            self.close_window()
            if self.writer is not None:
                self.writer.close()
            self.print_summary()
        return 0

    def driving(self) -> bool:
        """The car can still move (not crashed)."""
        return bool(self.world.state.driving[0])

    def step_frame(self) -> None:
        """The physics steps this frame's budget allows (exactly one in fast mode), then one frame."""
        if self.fast:
            if not self.pacer.paused and self.driving():
                self.step()
            assert self.step_limit is not None
            finished = self.driven_steps >= self.step_limit or not self.driving()
            if finished or self.pacer.frame_due():
                self.frame()
            if finished:
                self.close()
            return
        self.pacer.run_steps(self.step, self.driving)
        self.frame()

    def choose(self) -> tuple[int, str]:
        """This step's action and who chose it."""
        world = self.world
        state = world.state
        if self.autopilot is not None:
            planned = int(self.autopilot.actions(state.positions, state.headings, state.progress_m)[0])
            return keys_to_action(*action_to_keys(planned)), "autopilot"
        pressing = self.steering.pressing
        if self.policy is not None:
            if pressing:
                # Counted from the end of this step, the last one the key was held for.
                self.person_until_s = world.time_s + self.config.physics.dt_s + TAKEOVER_SECONDS
            if world.time_s >= self.person_until_s - 1e-9:
                return int(self.policy.actions(world.observations)[0]), "model"
        return self.steering.action, "person"

    def step(self) -> None:
        """One physics step with the chosen action, recorded if recording."""
        world = self.world
        state = world.state
        observation = world.observations[0].copy()
        pose = (float(state.positions[0, 0]), float(state.positions[0, 1]), float(state.headings[0]))
        progress, lap = float(state.progress_m[0]), int(state.laps[0])
        action, driver = self.choose()
        world.step(np.array([action]))
        if self.recorder is not None:
            self.recorder.step(np.array([action]))
        if self.best_laps is not None:
            self.best_laps.step(world, np.array([action]))
        self.ghosts.step(int(state.laps[0]))
        self.show_best_lap_ghost()
        self.record_pose(world)
        self.last_action, self.current_driver = action, driver
        self.driven_steps += 1
        self.histogram[action] += 1
        if self.writer is not None:
            self.writer.write(world.steps, world.time_s, observation, action, pose, progress, lap, driver)

    def keep_best_laps(self, best_laps: BestLapRecorder) -> None:
        """Keep the best lap as it is driven (from now on)."""
        self.best_laps = best_laps
        best_laps.restart(self.world)

    def show_best_lap_ghost(self) -> None:
        """A new best lap was just completed: without --ghost, it drives as the ghost of your next laps."""
        best = self.best_laps
        if best is None or best.best is None or best.improvements == self._best_lap_shown:
            return
        self._best_lap_shown = best.improvements
        if self.follow_best_lap:
            self.ghosts = GhostCars([ReplayPlayer(best.best, self.track)], int(self.world.state.laps[0]))
            self.notices.show(f"best lap {best.best_time_s:.2f}s: its ghost drives your next laps")

    # --- keys --------------------------------------------------------------------------------------------------

    def back_to_checkpoint(self) -> None:
        """R: the car goes back to the last checkpoint gate it passed (the start if none)."""
        progress = last_checkpoint_progress(self.track, float(self.world.state.progress_m[0]))
        self.world.place(np.array([0]), np.array([progress]))
        if self.recorder is not None:
            self.recorder.place(0, progress)
        if self.best_laps is not None:
            self.best_laps.spoil(0)
        self.reset_poses(self.world)
        self.pacer.budget = 0.0
        where = "the start" if progress % self.track.length_m < 1e-6 else f"the checkpoint at {progress:.0f} m"
        self.notices.show(f"back to {where}")

    def remove_recent(self) -> None:
        """Backspace: the last seconds of the recording are taken out."""
        if self.writer is None:
            self.notices.show("not recording: nothing to remove")
            return
        removed = self.writer.remove_last(REMOVE_SECONDS)
        self.removed_frames += removed
        self.notices.show(f"removed the last {removed} frames ({removed * self.config.physics.dt_s:.1f} s)")

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World:
        """The one car's world."""
        return self.world

    def draw_under_cars(self, screen: pygame.Surface) -> list[pygame.Rect]:
        """The ghost cars, if any."""
        return self.ghosts.draw(screen, self.scene.sprites, self.scene.camera, self.pacer.fraction)

    def car_colours(self, world: World) -> list[tuple[np.ndarray, tuple[int, int, int], int]]:
        """The car, dimmed when crashed."""
        crashed = bool(world.state.crashed[0])
        return [(np.array([0]), theme.CRASHED if crashed else theme.CAR, theme.CRASHED_ALPHA if crashed else 255)]

    def status(self) -> tuple[str, tuple[int, int, int]]:
        """What the car is doing."""
        if self.world.state.crashed[0]:
            return "crashed - press R", theme.BAD
        if self.pacer.paused:
            return "paused (Space)", theme.ACCENT
        return "driving", theme.GOOD

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """Track, driver, laps, time, speed, FPS."""
        state = self.world.state
        times = self.world.lap_times(0)
        return "Drive", [
            ("Track", self.track.name),
            ("Driver", self.current_driver),
            ("Laps", f"{int(state.laps[0])}" + (f"  (last {times[-1]:.2f} s)" if times else "")),
            ("Driven", f"{self.driven_steps * self.config.physics.dt_s:5.1f} s"),
            *([("Best lap", f"{self.best_laps.best_time_s:.2f} s")] if self.best_laps and self.best_laps.best else []),
            *self.ghost_rows(),
            ("Speed", "fast" if self.fast and not self.pacer.paused else self.pacer.label()),
            ("FPS", "-" if self.fast else self.fps_label()),
        ]

    def ghost_rows(self) -> list[tuple[str, str]]:
        """How you stand against the ghost: metres ahead, and time against a lap ghost."""
        if not len(self.ghosts):
            return []
        state = self.world.state
        progress = float(state.progress_m[0])
        rows = [("Ahead of ghost", self.ghosts.gap_label(progress, self.track.length_m))]
        lap_time = self.world.time_s - float(state.lap_start_s[0]) if state.driving[0] else math.nan
        delta = self.ghosts.lap_delta_label(progress, lap_time, self.track.length_m)
        if delta is not None:
            rows.append(("Lap vs ghost", delta))
        return rows

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """The model's live values (only when a model drives)."""
        if self.model is None or self.policy is None:
            return None
        return network_snapshot(self.model.network, self.world.observations[car])

    def draw_panel(self, screen: pygame.Surface, world: World | None) -> list[pygame.Rect]:
        """HUD, the recording box, the sensor readings and the action histogram (and the network with a model)."""
        areas = self.draw_hud(screen, {"Driver": theme.ACCENT})
        if areas is None:
            return []
        inner, hud_rect = areas
        scale = self.scale
        gap = theme.MARGIN
        texts = self.texts
        record_rect = pygame.Rect(inner.left, hud_rect.bottom + gap, inner.width, scaled(76, scale))
        frames = None if self.writer is None else self.writer.frame_count
        recording = bool(self.world.state.driving[0]) and not self.pacer.paused
        draw_recording(screen, record_rect, texts, scale, frames, recording, self.status())
        angles = self.config.sensors.angles_deg
        sensor_rect = pygame.Rect(inner.left, record_rect.bottom + gap, inner.width, bars_height(len(angles), scale))
        draw_sensors(screen, sensor_rect, texts, scale, angles, self.world.observations[0])
        histogram_rect = pygame.Rect(inner.left, sensor_rect.bottom + gap, inner.width, bars_height(3, scale))
        title = "Actions recorded" if self.writer is not None else "Actions"
        draw_actions(screen, histogram_rect, texts, scale, title, self.shown_histogram, self.last_action)
        dirty = [hud_rect, record_rect, sensor_rect, histogram_rect]
        if self.model is not None:
            network_rect = pygame.Rect(inner.left, histogram_rect.bottom + gap, inner.width, 0)
            network_rect.height = inner.bottom - network_rect.top
            if network_rect.height > 120:
                snapshot = self.network_snapshot(0)
                self.network_view.draw(screen, network_rect, snapshot, "Network of the model", scale)
                dirty.append(network_rect)
        return dirty

    @property
    def shown_histogram(self) -> list[int]:
        """The actions of the recorded frames when recording (Backspace takes its frames out), else of all driving."""
        return self.writer.action_histogram if self.writer is not None else self.histogram

    # --- the end -----------------------------------------------------------------------------------------------

    def print_summary(self) -> None:
        """Frames, seconds, laps, actions and where the session was saved."""
        seconds = self.driven_steps * self.config.physics.dt_s
        actions = ", ".join(f"{name} {count}" for name, count in zip(ACTION_NAMES, self.histogram, strict=True))
        print(f"drove {self.driven_steps} frames ({seconds:.1f} s), {int(self.world.state.laps[0])} laps; {actions}")
        if self.writer is None:
            print("not recorded (use --record DIR to keep the driving)")
        elif self.writer.frame_count == 0:
            print("nothing recorded; no session was kept")
        else:
            removed = f" ({self.removed_frames} removed with Backspace)" if self.removed_frames else ""
            recorded = ", ".join(
                f"{name} {count}" for name, count in zip(ACTION_NAMES, self.writer.action_histogram, strict=True)
            )
            print(
                f"recorded {self.writer.frame_count} frames{removed} to {display_path(self.writer.folder)}; {recorded}"
            )
