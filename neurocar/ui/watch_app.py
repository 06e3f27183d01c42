"""`neurocar watch`: trained models drive, one car each, side by side in their own colours.

The app owns the loop: each frame it runs the whole steps the speed allows, then draws. A car that has driven the
laps asked for is parked (it stops driving) and shows as finished; when no car drives any more the window keeps
showing the results until it is closed (or R restarts the race).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.learn.evaluation import TIME_ALLOWANCE, TIME_MARGIN_S
from neurocar.learn.model_file import Model
from neurocar.learn.model_pilots import ModelPilots
from neurocar.learn.policy import PopulationPolicy, network_rows
from neurocar.sim.replay import ReplayRecorder
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot, network_snapshot
from neurocar.ui.text_layout import fit_text

LEGEND_ROW_HEIGHT = 46  # a car with its lap times on a second line, at scale 1
COMPACT_ROW_HEIGHT = 26  # a car on one line, used when the rows with times do not all fit


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
            policy.set_parameters(network_rows(model.network))
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

    def key_bindings(self) -> list[Binding]:
        """Speed and rays, restart, and the click that picks the car shown."""
        return [
            *self.speed_bindings(),
            self.rays_binding(),
            Binding("R", "restart the race", self.restart_by_key, (pygame.K_r,)),
            self.select_binding(),
        ]

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
        self.pacer.run_steps(self.step, lambda: not self.world.done)
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

    def restart_by_key(self) -> None:
        """R: the race again."""
        self.restart()
        self.notices.show("race restarted")

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
        racing = int(self.world.state.driving.sum())
        return "Watch", [
            ("Track", self.track.name),
            ("Laps to drive", str(self.laps)),
            ("Cars driving", f"{racing} / {len(self.drivers)}"),
            ("Simulated time", f"{self.world.time_s:5.1f} s"),
            ("Speed", self.pacer.label()),
            ("FPS", self.fps_label()),
        ]

    def network_snapshot(self, car: int) -> NetworkSnapshot:
        """The car's model with its live values."""
        return network_snapshot(self.drivers[car].model.network, self.world.observations[car])

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The legend: each model's colour, name, laps, status and lap times (redrawn every frame); every text is
        fitted to the panel."""
        pygame.draw.rect(surface, theme.PANEL, rect, border_radius=8)
        texts, scale = self.texts, self.scale
        name_size, small_size = round(20 * scale), round(18 * scale)
        padding = round(10 * scale)
        top = rect.top + round(36 * scale)
        bottom = rect.bottom - (round(28 * scale) if self.world.done else padding)
        with_times = top + round(LEGEND_ROW_HEIGHT * scale) * len(self.drivers) <= bottom
        row_height = round((LEGEND_ROW_HEIGHT if with_times else COMPACT_ROW_HEIGHT) * scale)
        title = "Results" if self.world.done else "Cars"
        surface.blit(texts.render(title, round(22 * scale), theme.TEXT), (rect.left + padding, rect.top + padding))
        y = top
        state = self.world.state
        box = round(14 * scale)
        name_left = rect.left + padding + box + round(10 * scale)
        more_height = round(22 * scale)  # the "... and N more" line
        for car, driver in enumerate(self.drivers):
            last = car == len(self.drivers) - 1
            if y + row_height + (0 if last else more_height) > bottom and not (last and y + row_height <= bottom):
                more = texts.render(f"... and {len(self.drivers) - car} more", small_size, theme.TEXT_DIM)
                surface.blit(more, (rect.left + padding, y))
                break
            pygame.draw.rect(surface, driver.colour, (rect.left + padding, y + 3, box, box), border_radius=3)
            if car == self.selected:
                ring = pygame.Rect(rect.left + padding - 3, y, box + 6, box + 6)
                pygame.draw.rect(surface, theme.ACCENT, ring, 2, border_radius=4)
            status, colour = self.status(car)
            laps = texts.render(
                f"{min(int(state.laps[car]), self.laps)}/{self.laps} laps  {status}", small_size, colour
            )
            surface.blit(laps, (rect.right - padding - laps.get_width(), y + 3))
            room = rect.right - padding - laps.get_width() - padding - name_left
            name = fit_text(texts, driver.name, name_size, room, keep_end=True)
            surface.blit(texts.render(name, name_size, theme.TEXT), (name_left, y + 2))
            if with_times:
                times = self.world.lap_times(car)[: self.laps]
                text = "  ".join(f"{lap:.2f}s" for lap in times) if times else "no lap yet"
                text = fit_text(texts, text, small_size, rect.right - padding - name_left)
                surface.blit(texts.render(text, small_size, theme.TEXT_DIM), (name_left, y + round(22 * scale)))
            y += row_height
        if self.world.done:
            hint = texts.render("R: race again   Esc: quit", small_size, theme.TEXT_DIM)
            surface.blit(hint, (rect.left + padding, rect.bottom - round(24 * scale)))
        return True
