"""Ghost cars: saved replays driving beside you, drawn translucent, never touched.

A ghost of a whole drive is the winning car of a replay, played by a `ReplayPlayer` (its own world) stepped once for
every step of the window's world, so it is where the saved car was at the same moment of its drive. A ghost of a
lap (a lap file, such as a saved best lap) drives that one lap again every time you start a lap: when your car
crosses the line, the ghost starts its lap from its own line crossing, so you always race the lap itself; when it
has finished before you, it waits on the line. The ghost's pose is interpolated between its last two steps the way
the window interpolates the real cars.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pygame

from neurocar.sim.race import finishing_order
from neurocar.sim.replay import ReplayPlayer
from neurocar.ui.camera import Camera
from neurocar.ui.track_view import CarSprites, draw_cars

GHOST_COLOUR = (170, 120, 255)  # violet: unlike any car colour, and visible on the light road
GHOST_ALPHA = 150


def ghost_car(player: ReplayPlayer) -> int:
    """The car of a replay a ghost follows: the winner (played through once to find it, then rewound); a lap
    file's only car."""
    if player.replay.is_lap:
        return 0
    player.play_to_end()
    state = player.world.state
    laps = player.replay.laps or max(1, int(state.laps.max()))
    winner = finishing_order(state.lap_events, laps, state.progress_m, state.crashed, state.stalled, state.driving)[0]
    player.restart()
    return winner.car


def lap_profile(player: ReplayPlayer) -> tuple[np.ndarray, np.ndarray]:
    """For a lap: how far along its lap the ghost was [m] and how long into its lap [s], after each saved step
    (played through once, then rewound). The distances never decrease, so a distance finds its time."""
    replay = player.replay
    assert replay.start is not None
    length = player.world.track.length_m
    player.restart()
    progress = [float(player.world.state.progress_m[0])]
    while not player.finished:
        player.step()
        progress.append(float(player.world.state.progress_m[0]))
    player.restart()
    along = np.maximum.accumulate(np.array(progress) - replay.start.laps * length)
    dt = replay.physics.dt_s
    times = (replay.start.step + np.arange(len(along))) * dt - replay.start.lap_start_s
    return along, times


class GhostCars:
    """The ghosts of a window: stepping, restarting and drawing them."""

    def __init__(self, players: Sequence[ReplayPlayer], laps_completed: int = 0) -> None:
        """`laps_completed`: the laps your car has already completed (a lap ghost joins in the middle of a drive
        as your next lap begins)."""
        self.players = list(players)
        self.cars = [ghost_car(player) for player in self.players]
        self._lap_profiles = [lap_profile(player) if player.replay.is_lap else None for player in self.players]
        self._previous: list[tuple[np.ndarray, float]] = []
        self.restart()
        self._laps_seen = laps_completed

    def __len__(self) -> int:
        return len(self.players)

    @property
    def laps(self) -> list[bool]:
        """For each ghost: whether it is a lap ghost (restarts with your every lap)."""
        return [player.replay.is_lap for player in self.players]

    def _poses(self) -> list[tuple[np.ndarray, float]]:
        return [
            (player.world.state.positions[car].copy(), float(player.world.state.headings[car]))
            for player, car in zip(self.players, self.cars, strict=True)
        ]

    def restart(self) -> None:
        """Every ghost back at its start (the race starts again)."""
        for player in self.players:
            player.restart()
        self._laps_seen = 0
        self._previous = self._poses()

    def step(self, laps_completed: int | None = None) -> None:
        """One step of every ghost that still has saved steps, after one step of the window's world.

        `laps_completed` is the laps your car has completed now: when it grew, you crossed the line in this step,
        and every lap ghost starts its lap again (from its own crossing of the line) instead of stepping."""
        self._previous = self._poses()
        new_lap = laps_completed is not None and laps_completed > self._laps_seen
        if laps_completed is not None:
            self._laps_seen = laps_completed
        for index, player in enumerate(self.players):
            if new_lap and player.replay.is_lap:
                player.restart()
                position, heading = self._poses()[index]
                self._previous[index] = (position, heading)
            elif not player.finished:
                player.step()

    def draw(self, surface: pygame.Surface, sprites: CarSprites, camera: Camera, fraction: float | None) -> list:
        """Draw the ghosts, `fraction` of the way from their previous pose to the current one (None: current)."""
        dirty = []
        for (old_position, old_heading), (position, heading) in zip(self._previous, self._poses(), strict=True):
            if fraction is not None:
                turn = math.remainder(heading - old_heading, 2 * math.pi)
                position = old_position + (position - old_position) * fraction
                heading = old_heading + turn * fraction
            dirty += draw_cars(surface, sprites, camera, position[None], np.array([heading]), GHOST_COLOUR, GHOST_ALPHA)
            radius = max(10, sprites.base.get_width() * 2 // 3)
            dirty.append(pygame.draw.circle(surface, GHOST_COLOUR, camera.to_screen(position).tolist(), radius, 1))
        return dirty

    def gap_m(self, progress_m: float, track_length_m: float) -> float | None:
        """How far ahead (+) or behind (-) of the first ghost a car with this net progress is [m]: along the whole
        drive for a drive's ghost, along the current lap for a lap ghost; None without ghosts."""
        if not self.players:
            return None
        player, car = self.players[0], self.cars[0]
        ghost = float(player.world.state.progress_m[car])
        start = player.replay.start
        if start is None:
            return progress_m - ghost
        own_lap = progress_m - self._laps_seen * track_length_m
        ghost_lap = min(ghost - start.laps * track_length_m, track_length_m)
        return own_lap - ghost_lap

    def gap_label(self, progress_m: float, track_length_m: float) -> str:
        """The gap to the first ghost as text, e.g. "+12 m" ("-" without ghosts)."""
        gap = self.gap_m(progress_m, track_length_m)
        return "-" if gap is None else f"{round(gap) + 0:+d} m"  # never "-0 m"

    def lap_delta_s(self, progress_m: float, lap_time_s: float, track_length_m: float) -> float | None:
        """Against the first lap ghost: how much longer (+) or shorter (-) you took to get where you are in your
        lap than the ghost took to get there [s]; None without a lap ghost (or while you are not driving: pass NaN
        as `lap_time_s`)."""
        for profile in self._lap_profiles:
            if profile is not None:
                along, times = profile
                own_lap = progress_m - self._laps_seen * track_length_m
                return lap_time_s - float(np.interp(own_lap, along, times))
        return None

    def lap_delta_label(self, progress_m: float, lap_time_s: float, track_length_m: float) -> str | None:
        """The lap delta as words: "0.42 s behind", "0.10 s ahead" (None without a lap ghost)."""
        delta = self.lap_delta_s(progress_m, lap_time_s, track_length_m)
        if delta is None:
            return None
        if math.isnan(delta):
            return "-"
        return f"{abs(delta):.2f} s {'behind' if delta > 0.005 else 'ahead' if delta < -0.005 else 'level'}"

    def lap_time_label(self) -> str | None:
        """The first lap ghost's lap time and whose it is, e.g. "42.62s (driver)"; None if no ghost is a lap."""
        for player in self.players:
            if player.replay.is_lap and player.replay.lap_time_s is not None:
                return f"{player.replay.lap_time_s:.2f}s ({player.replay.cars[0].label})"
        return None
