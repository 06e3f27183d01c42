"""`neurocar watch`: trained models drive, one car each, side by side in their own colours.

The app owns the loop: each frame it runs the whole steps the speed allows, then draws. A car that has driven the
laps asked for is parked (it stops driving) and shows as finished; when no car drives any more the window keeps
showing the results until it is closed (or R restarts the race).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.learn.evaluation import TIME_ALLOWANCE, TIME_MARGIN_S
from neurocar.learn.model_file import Model
from neurocar.learn.model_pilots import ModelPilots
from neurocar.learn.policy import PopulationPolicy, network_vector
from neurocar.sim.replay import ReplayRecorder
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed, speed_label
from neurocar.ui.network_view import NetworkSnapshot, network_snapshot

MAX_SPEED_SLICE_SECONDS = 1.0 / 8  # at max speed, step this long between two frames
LEGEND_ROW_HEIGHT = 46


@dataclass
class Driver:
    """One car's model: its name on the legend, its colour, and the policy that drives it."""

    name: str
    model: Model
    colour: tuple[int, int, int]
    policy: PopulationPolicy


def model_names(paths: list[str]) -> list[str]:
    """Short legend names: the file stem, with the folder added where two stems are the same."""
    stems = [Path(path).stem for path in paths]
    return [
        f"{Path(path).parent.name}/{stem}" if stems.count(stem) > 1 and Path(path).parent.name else stem
        for path, stem in zip(paths, stems, strict=True)
    ]


class WatchApp(WindowApp):
    """Models racing on one track."""

    help_title = "NeuroCar - watch"

    def __init__(
        self,
        config: Config,
        track: Track,
        models: list[Model],
        laps: int,
        *,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        super().__init__(config, track, max_frames=max_frames, screenshot=screenshot, speed=speed)
        self.laps = laps
        names = model_names([model.path for model in models])
        self.drivers = []
        for index, (name, model) in enumerate(zip(names, models, strict=True)):
            policy = PopulationPolicy(model.network)
            policy.set_parameters(network_vector(model.network).reshape(1, -1))
            colour = theme.MODEL_COLOURS[index % len(theme.MODEL_COLOURS)]
            self.drivers.append(Driver(name, model, colour, policy))
        lap_time = track.length_m / config.physics.cruise_speed_mps
        episode = dataclasses.replace(config.episode, max_seconds=laps * lap_time * TIME_ALLOWANCE + TIME_MARGIN_S)
        self.world = World(track, config.physics, config.sensors, episode, population=len(models))
        self.finished = np.zeros(len(models), dtype=bool)
        self.selected = 0 if len(models) == 1 else None
        self.pilots = ModelPilots(models)
        self.recorder: ReplayRecorder | None = None  # set to save a replay of the latest race
        self.restart()

    def help_keys(self) -> list[tuple[str, str]]:
        """The common keys plus restart."""
        keys = super().help_keys()
        return [*keys[:4], ("R", "restart the race"), *keys[4:]]

    def restart(self) -> None:
        """Every car back on the start line."""
        if self.recorder is not None:
            self.recorder.restart(self.world)
        self.world.reset()
        self.finished[:] = False
        self.reset_poses(self.world)

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and race until it is closed; returns the exit code."""
        self.open_window()
        try:
            while True:
                self.step_frame()
        except WindowClosed:
            return 0
        finally:
            self.close_window()

    def step_frame(self) -> None:
        """The simulation steps this frame's budget allows, then one frame."""
        if self.max_speed and not self.paused:
            deadline = time.perf_counter() + MAX_SPEED_SLICE_SECONDS
            while not self.world.done and time.perf_counter() < deadline:
                self.step()
        else:
            while self.budget >= 1 and not self.world.done:
                self.step()
                self.budget -= 1
        if self.world.done:
            self.budget = min(self.budget, 0.999)
        self.frame()

    def step(self) -> None:
        """One simulation step: every model picks its car's action; finished cars are parked."""
        world = self.world
        actions = self.pilots.actions(world.observations)
        world.step(actions)
        if self.recorder is not None:
            self.recorder.step(actions)
        newly_finished = world.state.driving & (world.state.laps >= self.laps)
        if newly_finished.any():
            # The race is over for these cars: they stop where they crossed the line.
            world.stop(np.nonzero(newly_finished)[0])
            self.finished |= newly_finished
            if self.recorder is not None:
                self.recorder.stop(np.nonzero(newly_finished)[0])
        self.record_pose(world)

    def sprite_colours(self) -> list[tuple[tuple[int, int, int], int]]:
        """Each model's colour, bright and dimmed."""
        return [(driver.colour, alpha) for driver in self.drivers for alpha in (255, theme.CRASHED_ALPHA)]

    def idle(self) -> bool:
        """The race is over: every car finished or stopped."""
        return self.world.done

    def on_key(self, key: int) -> None:
        """R restarts the race."""
        if key == pygame.K_r:
            self.restart()
            self.toasts.show("race restarted")

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World:
        """The race's world."""
        return self.world

    def car_colours(self, world: World) -> list[tuple[np.ndarray, tuple[int, int, int], int]]:
        """Each car in its model's colour; crashed or stalled cars dimmed."""
        state = world.state
        stopped = ~state.driving & ~self.finished
        return [
            (np.array([car]), driver.colour, theme.CRASHED_ALPHA if stopped[car] else 255)
            for car, driver in enumerate(self.drivers)
        ]

    def status(self, car: int) -> tuple[str, tuple[int, int, int]]:
        """What a car is doing, and the colour to say it in."""
        state = self.world.state
        if self.finished[car]:
            return "finished", theme.GOOD
        if state.crashed[car]:
            return "crashed", theme.BAD
        if state.stalled[car]:
            return "stalled", theme.BAD
        if not state.driving[car]:
            return "out of time", theme.BAD
        return "driving", theme.TEXT

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """Track, laps, time, speed, FPS."""
        speed = "paused" if self.paused else speed_label(self.multiplier)
        racing = int(self.world.state.driving.sum())
        return "Watch", [
            ("Track", self.track.name),
            ("Laps to drive", str(self.laps)),
            ("Cars driving", f"{racing} / {len(self.drivers)}"),
            ("Simulated time", f"{self.world.time_s:5.1f} s"),
            ("Speed", speed),
            ("FPS", self.fps_label()),
        ]

    def network_snapshot(self, car: int) -> NetworkSnapshot:
        """The car's model with its live values."""
        return network_snapshot(self.drivers[car].model.network, self.world.observations[car])

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The legend: each model's colour, name, laps, status and lap times (redrawn every frame)."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        texts = self.texts
        title = "Results" if self.world.done else "Cars"
        surface.blit(texts.render(title, 22, theme.TEXT), (rect.left + 10, rect.top + 8))
        y = rect.top + 36
        state = self.world.state
        for car, driver in enumerate(self.drivers):
            if y + LEGEND_ROW_HEIGHT > rect.bottom:
                more = texts.render(f"... and {len(self.drivers) - car} more", 18, theme.TEXT_DIM)
                surface.blit(more, (rect.left + 12, y))
                break
            pygame.draw.rect(surface, driver.colour, (rect.left + 12, y + 3, 14, 14), border_radius=3)
            if car == self.selected:
                pygame.draw.rect(surface, theme.ACCENT, (rect.left + 9, y, 20, 20), 2, border_radius=4)
            surface.blit(texts.render(driver.name, 20, theme.TEXT), (rect.left + 34, y + 2))
            status, colour = self.status(car)
            laps = texts.render(f"{min(int(state.laps[car]), self.laps)}/{self.laps} laps  {status}", 18, colour)
            surface.blit(laps, (rect.right - 10 - laps.get_width(), y + 3))
            times = self.world.lap_times(car)[: self.laps]
            text = "  ".join(f"{lap:.2f}s" for lap in times) if times else "no lap yet"
            surface.blit(texts.render(text, 18, theme.TEXT_DIM), (rect.left + 34, y + 22))
            y += LEGEND_ROW_HEIGHT
        if self.world.done:
            hint = texts.render("R: race again   Esc: quit", 18, theme.TEXT_DIM)
            surface.blit(hint, (rect.left + 12, rect.bottom - 24))
        return True
