"""Ghost cars: saved replays driving beside you, drawn translucent, never touched.

Each ghost is the winning car of a replay, played by a `ReplayPlayer` (its own world) stepped once for every step
of the window's world, so it is where the saved car was at the same moment of its drive. The ghost's pose is
interpolated between its last two steps the way the window interpolates the real cars.
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
    """The car of a replay a ghost follows: the winner (played through once to find it, then rewound)."""
    player.play_to_end()
    state = player.world.state
    laps = player.replay.laps or max(1, int(state.laps.max()))
    winner = finishing_order(state.lap_events, laps, state.progress_m, state.crashed, state.stalled, state.driving)[0]
    player.restart()
    return winner.car


class GhostCars:
    """The ghosts of a window: stepping, restarting and drawing them."""

    def __init__(self, players: Sequence[ReplayPlayer]) -> None:
        self.players = list(players)
        self.cars = [ghost_car(player) for player in self.players]
        self._previous: list[tuple[np.ndarray, float]] = []
        self.restart()

    def __len__(self) -> int:
        return len(self.players)

    def _poses(self) -> list[tuple[np.ndarray, float]]:
        return [
            (player.world.state.positions[car].copy(), float(player.world.state.headings[car]))
            for player, car in zip(self.players, self.cars, strict=True)
        ]

    def restart(self) -> None:
        """Every ghost back at its start."""
        for player in self.players:
            player.restart()
        self._previous = self._poses()

    def step(self) -> None:
        """One step of every ghost that still has saved steps."""
        self._previous = self._poses()
        for player in self.players:
            if not player.finished:
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

    def gap_label(self, progress_m: float) -> str:
        """How far ahead (+) or behind (-) of the first ghost a car with this net progress is, e.g. "+12 m"."""
        if not self.players:
            return "-"
        ghost = float(self.players[0].world.state.progress_m[self.cars[0]])
        return f"{progress_m - ghost:+.0f} m"
