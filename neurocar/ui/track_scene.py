"""The track and its cars as a window shows them: camera, pre-rendered track, car sprites, interpolated poses.

A `TrackScene` is fitted into the shell's stage rectangle (between the header line and the notice strip, so
neither covers the track). It remembers the poses of the last two simulation steps so that, when fewer than one
step falls on a frame, the cars are drawn between them by the unspent fraction of the step budget. Drawing only
reads the world.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.camera import Camera
from neurocar.ui.track_view import CarSprites, draw_cars, draw_rays, render_track

SELECT_RADIUS_PX = 18

# Groups of (car indices, colour, alpha) in drawing order.
CarGroups = list[tuple[np.ndarray, tuple[int, int, int], int]]


class TrackScene:
    """Camera, track picture and sprites for one window size, and the pose history for interpolation."""

    def __init__(self, config: Config, track: Track) -> None:
        self.config = config
        self.track = track
        self.camera: Camera | None = None
        self.track_surface: pygame.Surface | None = None
        self.sprites: CarSprites | None = None
        self._previous_pose: tuple[np.ndarray, np.ndarray] | None = None
        self._current_pose: tuple[np.ndarray, np.ndarray] | None = None

    def fit(self, stage: pygame.Rect, window_size: tuple[int, int], colours: list[tuple[tuple[int, int, int], int]]):
        """Fit the track into `stage`, render it for a window of `window_size`, and rotate the car sprites of the
        given (colour, alpha) pairs now rather than during the first frames."""
        viewport = stage.inflate(-2 * theme.MARGIN, -2 * theme.MARGIN)
        walls = np.concatenate([self.track.left_wall, self.track.right_wall])
        self.camera = Camera.fit(walls, (viewport.left, viewport.top, viewport.width, viewport.height))
        self.track_surface = render_track(self.track, self.camera, window_size)
        physics = self.config.physics
        self.sprites = CarSprites(physics.car_length_m, physics.car_width_m, self.camera.scale)
        for colour, alpha in colours:
            self.sprites.rotations(colour, alpha)

    # --- poses -------------------------------------------------------------------------------------------------

    def reset_poses(self, world: World) -> None:
        """Forget the interpolation history (a new episode, or leaving max speed)."""
        pose = (world.state.positions.copy(), world.state.headings.copy())
        self._previous_pose = pose
        self._current_pose = pose

    def record_pose(self, world: World, interpolate: bool = True) -> None:
        """Remember the pose after a step, so the next frame can interpolate (not at max speed)."""
        if not interpolate:
            self._current_pose = None
            return
        if self._current_pose is None:
            self.reset_poses(world)
            return
        self._previous_pose = self._current_pose
        self._current_pose = (world.state.positions.copy(), world.state.headings.copy())

    def drawn_poses(self, world: World, fraction: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Positions and headings to draw: between the last two steps by `fraction` (None: the last step)."""
        if fraction is None or self._current_pose is None or self._previous_pose is None:
            return world.state.positions, world.state.headings
        if len(self._current_pose[0]) != world.population:
            return world.state.positions, world.state.headings
        (old_positions, old_headings), (positions, headings) = self._previous_pose, self._current_pose
        turn = np.mod(headings - old_headings + math.pi, 2 * math.pi) - math.pi
        return old_positions + (positions - old_positions) * fraction, old_headings + turn * fraction

    # --- drawing -----------------------------------------------------------------------------------------------

    def draw_track(self, screen: pygame.Surface) -> None:
        """The pre-rendered track over the whole window."""
        assert self.track_surface is not None
        screen.blit(self.track_surface, (0, 0))

    def draw_cars(
        self, screen: pygame.Surface, positions: np.ndarray, headings: np.ndarray, groups: CarGroups
    ) -> list[pygame.Rect]:
        """Each group of cars in its colour, in order; returns the rectangles drawn on."""
        assert self.sprites is not None and self.camera is not None
        dirty: list[pygame.Rect] = []
        for cars, colour, alpha in groups:
            dirty += draw_cars(screen, self.sprites, self.camera, positions[cars], headings[cars], colour, alpha)
        return dirty

    def draw_rays(
        self,
        screen: pygame.Surface,
        world: World,
        positions: np.ndarray,
        headings: np.ndarray,
        focus: int | None,
        every_car: bool = False,
    ) -> list[pygame.Rect]:
        """The focused car's rays in bold, and every driving car's rays (thin) when asked."""
        assert self.camera is not None
        sensors = self.config.sensors
        angles = np.asarray(sensors.angles_rad)
        readings = world.observations
        dirty = []
        if every_car:
            cars = np.nonzero(world.state.driving)[0]
            dirty += draw_rays(
                screen, self.camera, positions[cars], headings[cars], readings[cars], angles, sensors.range_m, False
            )
        if focus is None:
            return dirty
        cars = np.array([focus])
        return dirty + draw_rays(
            screen, self.camera, positions[cars], headings[cars], readings[cars], angles, sensors.range_m, True
        )

    def car_at(self, world: World, position: tuple[int, int], fraction: float | None) -> int | None:
        """The car drawn nearest to a screen position, if within a few pixels of it."""
        assert self.camera is not None and self.sprites is not None
        positions, _headings = self.drawn_poses(world, fraction)
        distances = np.hypot(*(self.camera.to_screen(positions) - np.asarray(position, dtype=np.float64)).T)
        nearest = int(np.argmin(distances))
        if distances[nearest] <= max(SELECT_RADIUS_PX, self.sprites.base.get_width()):
            return nearest
        return None
