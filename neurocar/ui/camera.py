"""The camera: fits the track's bounding box into a screen rectangle, keeping the aspect ratio.

World coordinates are metres with y up; screen coordinates are pixels with y down. The transform is a uniform
scale, a y flip and an offset, applied to whole arrays of points at once.
"""

from __future__ import annotations

import numpy as np

PADDING_M = 4.0


class Camera:
    """World [m] to screen [px] for one viewport; rebuild it when the window is resized."""

    def __init__(self, world_min: np.ndarray, world_max: np.ndarray, viewport: tuple[int, int, int, int]) -> None:
        self.world_min = np.asarray(world_min, dtype=np.float64) - PADDING_M
        self.world_max = np.asarray(world_max, dtype=np.float64) + PADDING_M
        self.viewport = viewport
        left, top, width, height = viewport
        span = self.world_max - self.world_min
        self.scale = float(min(max(width, 1) / span[0], max(height, 1) / span[1]))  # pixels per metre
        # Centre the fitted track in the viewport: the unused space is split evenly.
        self.offset_x = left + (width - span[0] * self.scale) / 2
        self.offset_y = top + (height - span[1] * self.scale) / 2

    @classmethod
    def fit(cls, points: np.ndarray, viewport: tuple[int, int, int, int]) -> Camera:
        """A camera that shows every point (n, 2) inside the viewport (left, top, width, height)."""
        return cls(points.min(axis=0), points.max(axis=0), viewport)

    def to_screen(self, points: np.ndarray) -> np.ndarray:
        """Screen positions (..., 2) [px, float] of world points (..., 2) [m]."""
        points = np.asarray(points, dtype=np.float64)
        x = self.offset_x + (points[..., 0] - self.world_min[0]) * self.scale
        y = self.offset_y + (self.world_max[1] - points[..., 1]) * self.scale
        return np.stack([x, y], axis=-1)

    def to_world(self, screen: np.ndarray) -> np.ndarray:
        """World points (..., 2) [m] of screen positions (..., 2) [px]."""
        screen = np.asarray(screen, dtype=np.float64)
        x = self.world_min[0] + (screen[..., 0] - self.offset_x) / self.scale
        y = self.world_max[1] - (screen[..., 1] - self.offset_y) / self.scale
        return np.stack([x, y], axis=-1)
