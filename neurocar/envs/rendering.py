"""Drawing an environment's world with the simulator's own renderer (`neurocar.ui.track_view`).

pygame is imported here, so only by environments that render. "human" opens a window and paces it to the
environment's frame rate; "rgb_array" draws off screen and returns the frame.
"""

from __future__ import annotations

import os

import numpy as np

from neurocar.config import Config
from neurocar.sim.world import World

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from neurocar.ui import theme
from neurocar.ui.camera import Camera
from neurocar.ui.track_view import CarSprites, draw_cars, draw_rays, render_track

FRAME_SIZE = (640, 480)


class EnvRenderer:
    """Draws every car of a world on its track (a world of many tracks shows the first car's track)."""

    def __init__(self, config: Config, mode: str, fps: int) -> None:
        self.config = config
        self.mode = mode
        self.fps = fps
        self.size = FRAME_SIZE
        self.screen: pygame.Surface | None = None
        self.clock: pygame.time.Clock | None = None
        if mode == "human":
            pygame.display.init()
            self.screen = pygame.display.set_mode(self.size)
            pygame.display.set_caption("NeuroCar")
            self.clock = pygame.time.Clock()
        self._track_key: int | None = None
        self._background: pygame.Surface | None = None
        self._camera: Camera | None = None
        self._sprites: CarSprites | None = None

    def _prepare(self, world: World) -> None:
        track = world.track
        if self._track_key == id(track):
            return
        self._camera = Camera.fit(np.vstack([track.left_wall, track.right_wall]), (0, 0, *self.size))
        self._background = render_track(track, self._camera, self.size)
        physics = self.config.physics
        self._sprites = CarSprites(physics.car_length_m, physics.car_width_m, self._camera.scale)
        self._track_key = id(track)

    def draw(self, world: World) -> np.ndarray | None:
        """Draw the world; returns the frame for "rgb_array", None for "human"."""
        self._prepare(world)
        assert self._background is not None and self._camera is not None and self._sprites is not None
        surface = self._background.copy()
        state = world.state
        cars = np.nonzero(world.track_index == 0)[0]
        driving = cars[state.driving[cars]]
        stopped = cars[~state.driving[cars]]
        angles = np.radians(np.asarray(self.config.sensors.angles_deg))
        draw_rays(
            surface,
            self._camera,
            state.positions[driving],
            state.headings[driving],
            world.observations[driving],
            angles,
            self.config.sensors.range_m,
            bold=len(driving) == 1,
        )
        draw_cars(
            surface, self._sprites, self._camera, state.positions[stopped], state.headings[stopped], theme.CRASHED
        )
        draw_cars(surface, self._sprites, self._camera, state.positions[driving], state.headings[driving], theme.CAR)
        if self.mode == "human":
            assert self.screen is not None and self.clock is not None
            pygame.event.pump()
            self.screen.blit(surface, (0, 0))
            pygame.display.flip()
            self.clock.tick(self.fps)
            return None
        return np.transpose(pygame.surfarray.array3d(surface), (1, 0, 2)).copy()

    def close(self) -> None:
        """Close the window (human mode)."""
        if self.mode == "human":
            pygame.display.quit()
