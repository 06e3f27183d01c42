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
import torch

from neurocar.config import Config
from neurocar.learn.model_file import Model
from neurocar.learn.policy import PopulationPolicy, network_vector
from neurocar.learn.recording import SessionWriter
from neurocar.paths import display_path
from neurocar.sim.autopilot import Autopilot
from neurocar.sim.car import ACTION_NAMES, STRAIGHT
from neurocar.sim.replay import ReplayPlayer, ReplayRecorder
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import NETWORK_HEIGHT, WindowApp, WindowClosed
from neurocar.ui.ghosts import GhostCars
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot, layer_values, sensor_label
from neurocar.ui.shell import scaled
from neurocar.ui.steering import STEERING_KEYS, SteeringKeys, action_to_keys, keys_to_action
from neurocar.ui.text_layout import fit_text
from neurocar.ui.track_view import ray_colour

__all__ = ["STEERING_KEYS", "DriveApp", "action_to_keys", "keys_to_action", "last_checkpoint_progress"]

TAKEOVER_SECONDS = 1.0  # with --model: the person keeps control this long after the last steering key
REMOVE_SECONDS = 3.0  # Backspace removes this much of the latest driving from the recording
ROW_HEIGHT = 24  # a bar of the sensor and action boxes, at scale 1
TEXT_SIZE = 21
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
        self.ghosts.step()
        self.record_pose(world)
        self.last_action, self.current_driver = action, driver
        self.driven_steps += 1
        self.histogram[action] += 1
        if self.writer is not None:
            self.writer.write(world.steps, world.time_s, observation, action, pose, progress, lap, driver)

    # --- keys --------------------------------------------------------------------------------------------------

    def back_to_checkpoint(self) -> None:
        """R: the car goes back to the last checkpoint gate it passed (the start if none)."""
        progress = last_checkpoint_progress(self.track, float(self.world.state.progress_m[0]))
        self.world.place(np.array([0]), np.array([progress]))
        if self.recorder is not None:
            self.recorder.place(0, progress)
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
            *([("Ahead of ghost", self.ghosts.gap_label(float(state.progress_m[0])))] if len(self.ghosts) else []),
            ("Speed", "fast" if self.fast and not self.pacer.paused else self.pacer.label()),
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
        areas = self.draw_hud(screen, {"Driver": theme.ACCENT})
        if areas is None:
            return []
        inner, hud_rect = areas
        scale = self.scale
        row = scaled(ROW_HEIGHT, scale)
        gap = theme.MARGIN
        record_rect = pygame.Rect(inner.left, hud_rect.bottom + gap, inner.width, scaled(76, scale))
        self.draw_recording(screen, record_rect)
        sensors = len(self.config.sensors.angles_deg)
        sensor_rect = pygame.Rect(inner.left, record_rect.bottom + gap, inner.width, scaled(42, scale) + row * sensors)
        self.draw_sensors(screen, sensor_rect)
        histogram_rect = pygame.Rect(inner.left, sensor_rect.bottom + gap, inner.width, scaled(42, scale) + row * 3)
        self.draw_histogram(screen, histogram_rect)
        dirty = [hud_rect, record_rect, sensor_rect, histogram_rect]
        if self.model is not None:
            top = histogram_rect.bottom + gap
            height = min(scaled(NETWORK_HEIGHT, scale), inner.bottom - top)
            network_rect = pygame.Rect(inner.left, top, inner.width, height)
            if network_rect.height > 120:
                self.network_view.draw(screen, network_rect, self.network_snapshot(0), "Network of the model")
                dirty.append(network_rect)
        return dirty

    def draw_recording(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """REC (red dot, frame counter) or 'not recording'; the car's status below."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        texts, scale = self.texts, self.scale
        padding = scaled(12, scale)
        x, y = rect.left + padding, rect.top + scaled(10, scale)
        room = rect.width - 2 * padding
        small = scaled(TEXT_SIZE, scale)
        if self.writer is None:
            text = fit_text(texts, "not recording (use --record DIR)", small, room)
            surface.blit(texts.render(text, small, theme.TEXT_DIM), (x, y + 2))
        else:
            recording = bool(self.world.state.driving[0]) and not self.pacer.paused
            colour = theme.BAD if recording else theme.TEXT_DIM
            radius = scaled(8, scale)
            pygame.draw.circle(surface, colour, (x + radius, y + scaled(12, scale)), radius)
            label = texts.render("REC" if recording else "REC paused", scaled(28, scale), colour)
            surface.blit(label, (x + 3 * radius, y))
            frames = texts.render(f"{self.writer.frame_count} frames", scaled(24, scale), theme.TEXT)
            surface.blit(frames, (rect.right - padding - frames.get_width(), y + 2))
        status, colour = self.status()
        surface.blit(texts.render(fit_text(texts, status, small, room), small, colour), (x, y + scaled(34, scale)))

    def draw_bars(
        self, surface: pygame.Surface, rect: pygame.Rect, title: str, bars: list[tuple[str, float, str, tuple, bool]]
    ) -> None:
        """A titled box of bars: (label, fill 0..1, value text, bar colour, highlighted) each; the label column is
        as wide as its longest label (at most a third of the box)."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        texts, scale = self.texts, self.scale
        padding = scaled(10, scale)
        size = scaled(TEXT_SIZE, scale)
        surface.blit(
            texts.render(fit_text(texts, title, size, rect.width - 2 * padding), size, theme.TEXT),
            (rect.left + padding, rect.top + scaled(8, scale)),
        )
        font = texts.font(size)
        label_width = min(max(font.size(label)[0] for label, *_rest in bars), rect.width // 3)
        value_width = max(font.size(value)[0] for _label, _fill, value, *_rest in bars)
        bar_left = rect.left + 2 * padding + label_width
        bar_width = max(1, rect.right - 2 * padding - value_width - bar_left)
        bar_height = scaled(13, scale)
        for index, (label, fill, value, colour, highlighted) in enumerate(bars):
            y = rect.top + scaled(36, scale) + scaled(ROW_HEIGHT, scale) * index
            text = fit_text(texts, label, size, label_width)
            surface.blit(
                texts.render(text, size, theme.ACCENT if highlighted else theme.TEXT_DIM), (rect.left + padding, y)
            )
            middle = y + font.get_height() // 2 - bar_height // 2
            pygame.draw.rect(surface, theme.PANEL_EDGE, (bar_left, middle, bar_width, bar_height), border_radius=3)
            filled = round(bar_width * min(1.0, max(0.0, fill)))
            pygame.draw.rect(surface, colour, (bar_left, middle, filled, bar_height), border_radius=3)
            value_text = texts.render(value, size, theme.TEXT)
            surface.blit(value_text, (rect.right - padding - value_text.get_width(), y))

    def draw_sensors(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """One bar per ray, left to right as the car sees them: what the network sees (distance / range, 1 =
        nothing in range), named as the network view names them."""
        readings = self.world.observations[0].tolist()
        angles = self.config.sensors.angles_deg
        order = sorted(range(len(angles)), key=lambda index: -angles[index])  # leftmost (largest angle) first
        bars = [
            (sensor_label(angles[index]), readings[index], f"{readings[index]:.2f}", ray_colour(readings[index]), False)
            for index in order
        ]
        self.draw_bars(surface, rect, "Sensors (what the network sees)", bars)

    @property
    def shown_histogram(self) -> list[int]:
        """The actions of the recorded frames when recording (Backspace takes its frames out), else of all driving."""
        return self.writer.action_histogram if self.writer is not None else self.histogram

    def draw_histogram(self, surface: pygame.Surface, rect: pygame.Rect) -> None:
        """How often each action was chosen (in the recording, when recording), the current one highlighted."""
        histogram = self.shown_histogram
        total = max(1, sum(histogram))
        bars = [
            (
                name,
                count / total,
                str(count),
                theme.ACCENT if action == self.last_action else theme.POSITIVE,
                action == self.last_action,
            )
            for action, (name, count) in enumerate(zip(ACTION_NAMES, histogram, strict=True))
        ]
        self.draw_bars(surface, rect, "Actions recorded" if self.writer is not None else "Actions", bars)

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
