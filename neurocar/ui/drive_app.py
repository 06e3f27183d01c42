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
import time
from pathlib import Path

import numpy as np
import pygame
import torch

from neurocar.config import Config
from neurocar.learn.model_file import Model
from neurocar.learn.policy import PopulationPolicy, network_vector
from neurocar.learn.recording import SessionWriter
from neurocar.paths import display_path
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.best_lap import BestLapRecorder
from neurocar.sim.car import ACTION_NAMES, STRAIGHT
from neurocar.sim.replay import ReplayPlayer, ReplayRecorder
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import NETWORK_HEIGHT, WindowApp, WindowClosed, speed_label
from neurocar.ui.ghosts import GhostCars
from neurocar.ui.network_view import NetworkSnapshot, layer_values
from neurocar.ui.steering import STEERING_KEYS, SteeringKeys, action_to_keys, keys_to_action
from neurocar.ui.track_view import ray_colour

__all__ = ["STEERING_KEYS", "DriveApp", "action_to_keys", "keys_to_action", "last_checkpoint_progress"]

TAKEOVER_SECONDS = 1.0  # with --model: the person keeps control this long after the last steering key
REMOVE_SECONDS = 3.0  # Backspace removes this much of the latest driving from the recording
MAX_SPEED_SLICE_SECONDS = 1.0 / 8  # at max speed, step this long between two frames
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
            self.policy.set_parameters(network_vector(model.network).reshape(1, -1))
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
        self.reset_poses(self.world)

    @property
    def held(self) -> dict[int, bool]:
        """The steering keys held (action -> held)."""
        return self.steering.held

    @property
    def default_driver(self) -> str:
        """Who drives when no key is pressed: autopilot, model or person."""
        return "autopilot" if self.autopilot else ("model" if self.model is not None else "person")

    def help_keys(self) -> list[tuple[str, str]]:
        """The drive keys, then the common ones."""
        keys = [
            ("Left / Right", "steer (no key: straight)" + ("; takes over from the model" if self.model else "")),
            ("R", "back to the last checkpoint"),
            ("Backspace", f"remove the last {REMOVE_SECONDS:g} s from the recording"),
        ]
        return keys + super().help_keys()

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and drive until Esc (or the frame limit); prints the summary; returns the exit code."""
        self.open_window()
        if self.fast:
            self.max_speed = True
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

    def step_frame(self) -> None:
        """The physics steps this frame's budget allows (exactly one in fast mode), then one frame."""
        if self.fast:
            if not self.paused and self.world.state.driving[0]:
                self.step()
            assert self.step_limit is not None
            finished = self.driven_steps >= self.step_limit or not self.world.state.driving[0]
            if finished or self.max_speed_draw_due():
                self.frame()
            if finished:
                self.close()
            return
        if self.max_speed:
            # As fast as it goes, but the window still answers keys a few times a second.
            deadline = time.perf_counter() + MAX_SPEED_SLICE_SECONDS
            while self.world.state.driving[0] and not self.paused and time.perf_counter() < deadline:
                self.step()
        while self.budget >= 1 and self.world.state.driving[0] and not self.paused and not self.max_speed:
            self.step()
            self.budget -= 1
        if not self.world.state.driving[0]:
            self.budget = min(self.budget, 0.999)
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
            self.toasts.show(f"best lap {best.best_time_s:.2f}s: its ghost drives your next laps")

    # --- keys --------------------------------------------------------------------------------------------------

    def handle_events(self) -> None:
        """Steering keys are held (down until up); every other event goes to the common handling."""
        for event in pygame.event.get():
            if self.steering.handle(event):
                continue
            if event.type == pygame.QUIT:
                self.close()
            elif event.type == pygame.VIDEORESIZE:
                self.screen = pygame.display.get_surface()
                self.layout()
            elif event.type == pygame.KEYDOWN:
                self.handle_key(event.key)

    def on_key(self, key: int) -> None:
        """R: back to the last checkpoint; Backspace: remove the last seconds of the recording."""
        if key == pygame.K_r:
            progress = last_checkpoint_progress(self.track, float(self.world.state.progress_m[0]))
            self.world.place(np.array([0]), np.array([progress]))
            if self.recorder is not None:
                self.recorder.place(0, progress)
            if self.best_laps is not None:
                self.best_laps.spoil(0)
            self.reset_poses(self.world)
            self.budget = 0.0
            where = "the start" if progress % self.track.length_m < 1e-6 else f"the checkpoint at {progress:.0f} m"
            self.toasts.show(f"back to {where}")
        elif key == pygame.K_BACKSPACE:
            if self.writer is None:
                self.toasts.show("not recording: nothing to remove")
                return
            removed = self.writer.remove_last(REMOVE_SECONDS)
            self.removed_frames += removed
            self.toasts.show(f"removed the last {removed} frames ({removed * self.config.physics.dt_s:.1f} s)")

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World:
        """The one car's world."""
        return self.world

    def draw_under_cars(self, screen: pygame.Surface) -> list[pygame.Rect]:
        """The ghost cars, if any."""
        fraction = None if self.max_speed else min(1.0, max(0.0, self.budget))
        return self.ghosts.draw(screen, self.sprites, self.camera, fraction)

    def car_colours(self, world: World) -> list[tuple[np.ndarray, tuple[int, int, int], int]]:
        """The car, dimmed when crashed."""
        crashed = bool(world.state.crashed[0])
        return [(np.array([0]), theme.CRASHED if crashed else theme.CAR, theme.CRASHED_ALPHA if crashed else 255)]

    def status(self) -> tuple[str, tuple[int, int, int]]:
        """What the car is doing."""
        if self.world.state.crashed[0]:
            return "crashed - press R", theme.BAD
        if self.paused:
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
            *(
                [("Ahead of ghost", self.ghosts.gap_label(float(state.progress_m[0]), self.track.length_m))]
                if len(self.ghosts)
                else []
            ),
            ("Speed", "paused" if self.paused else ("fast" if self.fast else speed_label(self.multiplier))),
            ("FPS", "-" if self.fast else self.fps_label()),
        ]

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """The model's live values (only when a model drives)."""
        if self.model is None or self.policy is None:
            return None
        observation = self.world.observations[car : car + 1]
        outputs = self.policy.activations(torch.from_numpy(np.ascontiguousarray(observation)))
        values = layer_values(self.model.network, observation[0], [output[0].numpy() for output in outputs])
        linear_layers = [module for module in self.model.network if isinstance(module, torch.nn.Linear)]
        weights = [module.weight.detach().numpy() for module in linear_layers]
        return NetworkSnapshot(values, weights, int(np.argmax(values[-1])))

    def draw_panel(self, screen: pygame.Surface, world: World | None) -> list[pygame.Rect]:
        """HUD, the recording box, the sensor readings and the action histogram (and the network with a model)."""
        areas = self.draw_panel_with_hud(screen, {"Driver": theme.ACCENT})
        if areas is None:
            return []
        inner, hud_rect = areas
        record_rect = pygame.Rect(inner.left, hud_rect.bottom + theme.MARGIN, inner.width, 70)
        self.draw_recording(screen, record_rect)
        sensor_rect = pygame.Rect(inner.left, record_rect.bottom + theme.MARGIN, inner.width, 0)
        sensor_rect.height = 40 + 22 * len(self.config.sensors.angles_deg)
        self.draw_sensors(screen, sensor_rect)
        histogram_rect = pygame.Rect(inner.left, sensor_rect.bottom + theme.MARGIN, inner.width, 40 + 22 * 3)
        self.draw_histogram(screen, histogram_rect)
        dirty = [hud_rect, record_rect, sensor_rect, histogram_rect]
        if self.model is not None:
            network_rect = pygame.Rect(inner.left, histogram_rect.bottom + theme.MARGIN, inner.width, NETWORK_HEIGHT)
            network_rect.height = min(NETWORK_HEIGHT, inner.bottom - network_rect.top)
            if network_rect.height > 120:
                self.network_view.draw(screen, network_rect, self.network_snapshot(0), "Network of the model")
                dirty.append(network_rect)
        return dirty

    def draw_recording(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """REC (red dot, frame counter) or 'not recording'; the car's status below."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        x, y = rect.left + 12, rect.top + 10
        if self.writer is None:
            surface.blit(self.texts.render("not recording (use --record DIR)", 20, theme.TEXT_DIM), (x, y + 2))
        else:
            recording = bool(self.world.state.driving[0]) and not self.paused
            colour = theme.BAD if recording else theme.TEXT_DIM
            pygame.draw.circle(surface, colour, (x + 9, y + 11), 8)
            label = "REC" if recording else "REC paused"
            surface.blit(self.texts.render(label, 26, colour), (x + 24, y))
            frames = self.texts.render(f"{self.writer.frame_count} frames", 22, theme.TEXT)
            surface.blit(frames, (rect.right - 12 - frames.get_width(), y + 2))
        status, colour = self.status()
        surface.blit(self.texts.render(status, 20, colour), (x, y + 32))

    def draw_sensors(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """One bar per ray: what the network sees (distance / range, 1 = nothing in range)."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        title = self.texts.render("Sensors (what the network sees)", 20, theme.TEXT)
        surface.blit(title, (rect.left + 10, rect.top + 8))
        readings = self.world.observations[0]
        bar_left = rect.left + 70
        bar_width = rect.width - 70 - 60
        for index, (angle, reading) in enumerate(zip(self.config.sensors.angles_deg, readings.tolist(), strict=True)):
            y = rect.top + 34 + 22 * index
            surface.blit(self.texts.render(f"{angle:+.0f}°", 18, theme.TEXT_DIM), (rect.left + 12, y))
            pygame.draw.rect(surface, theme.PANEL_EDGE, (bar_left, y + 2, bar_width, 12), border_radius=3)
            filled = round(bar_width * min(1.0, max(0.0, reading)))
            pygame.draw.rect(surface, ray_colour(reading), (bar_left, y + 2, filled, 12), border_radius=3)
            value = self.texts.render(f"{reading:.2f}", 18, theme.TEXT)
            surface.blit(value, (rect.right - 10 - value.get_width(), y))

    @property
    def shown_histogram(self) -> list[int]:
        """The actions of the recorded frames when recording (Backspace takes its frames out), else of all driving."""
        return self.writer.action_histogram if self.writer is not None else self.histogram

    def draw_histogram(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """How often each action was chosen (in the recording, when recording), the current one highlighted."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        title = "Actions recorded" if self.writer is not None else "Actions"
        surface.blit(self.texts.render(title, 20, theme.TEXT), (rect.left + 10, rect.top + 8))
        histogram = self.shown_histogram
        total = max(1, sum(histogram))
        bar_left = rect.left + 84
        bar_width = rect.width - 84 - 70
        for action, (name, count) in enumerate(zip(ACTION_NAMES, histogram, strict=True)):
            y = rect.top + 34 + 22 * action
            current = action == self.last_action
            surface.blit(self.texts.render(name, 18, theme.ACCENT if current else theme.TEXT_DIM), (rect.left + 12, y))
            pygame.draw.rect(surface, theme.PANEL_EDGE, (bar_left, y + 2, bar_width, 12), border_radius=3)
            filled = round(bar_width * count / total)
            pygame.draw.rect(surface, theme.ACCENT if current else theme.POSITIVE, (bar_left, y + 2, filled, 12))
            text = self.texts.render(str(count), 18, theme.TEXT)
            surface.blit(text, (rect.right - 10 - text.get_width(), y))

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
