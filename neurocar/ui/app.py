"""The window shared by `neurocar sim` and `neurocar watch`: layout, camera, speed control, keys, drawing, frames.

A frame is: the test hook, the events, the drawing (cars interpolated between the last two simulation steps when
fewer than one step falls on a frame), the flip and the pacing. The simulation speed is a multiple of real time:
at 1x, one second of the window is one second of simulated time (20 steps at dt 0.05 s); the step budget
accumulates real time x multiplier / dt and the driver runs whole steps from it. dt itself never changes. At max
speed the driver steps without drawing and calls `frame()` only a few times per second.

Subclasses (`SimApp`, `WatchApp`) drive the simulation and say what the panel shows.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.paths import display_path
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.camera import Camera
from neurocar.ui.display import open_display, save_png
from neurocar.ui.help_overlay import HelpOverlay
from neurocar.ui.hud import Hud, Toasts
from neurocar.ui.network_view import NetworkSnapshot, NetworkView
from neurocar.ui.theme import TextCache
from neurocar.ui.track_view import CarSprites, draw_cars, draw_rays, render_track

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
MAX_SPEED_DRAWS_PER_SECOND = 8
MAX_FRAME_SECONDS = 0.25  # a slow frame never asks for more than this much simulated catch-up
SELECT_RADIUS_PX = 18
NETWORK_HEIGHT = 250
MIN_VIEW_WIDTH = 200


class WindowClosed(Exception):  # noqa: N818 - the window's own signal to its loop, not an error
    """The window was closed (Esc, the close button or the frame limit): the app's loop ends where it catches it.
    It never leaves the view layer."""


def parse_speed(text: str) -> float:
    """A speed option: 'max' (infinity) or a multiplier among SPEEDS, e.g. '1', '4', '0.25'."""
    if text.strip().lower() == "max":
        return math.inf
    value = float(text)
    if value not in SPEEDS:
        raise ValueError(text)
    return value


def speed_label(multiplier: float) -> str:
    """'0.25x', '1x', '64x' or 'max'."""
    return "max" if math.isinf(multiplier) else f"{multiplier:g}x"


class WindowApp:
    """The window: owns the display, the camera, the speed control and the common keys."""

    help_title = "NeuroCar"

    def __init__(
        self,
        config: Config,
        track: Track,
        *,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        self.config = config
        self.track = track
        self.max_frames = max_frames
        self.screenshot = screenshot
        self.speed_index = SPEEDS.index(1.0) if math.isinf(speed) else SPEEDS.index(speed)
        self.max_speed = math.isinf(speed)
        self.paused = False
        self.show_help = False
        self.rays_all = False
        self.selected: int | None = None
        self.frame_count = 0
        self.closed = False
        self.budget = 0.0
        self.before_frame: Callable[[WindowApp], None] | None = None  # tests post events here
        self.texts = TextCache()
        self.hud = Hud(self.texts)
        self.toasts = Toasts(self.texts)
        self.network_view = NetworkView(self.texts, config.sensors.angles_deg)
        self.help = HelpOverlay(self.texts, self.help_title, self.help_keys())
        self.screen: pygame.Surface | None = None
        self.clock: pygame.time.Clock | None = None
        self._last_frame_time = 0.0
        self._next_max_speed_draw = 0.0
        self._previous_pose: tuple[np.ndarray, np.ndarray] | None = None
        self._full_update = True
        self._last_dirty: list[pygame.Rect] = []
        self._fps_text = "-"
        self._fps_refresh = 0.0
        self._current_pose: tuple[np.ndarray, np.ndarray] | None = None

    # --- what subclasses provide -------------------------------------------------------------------------------

    def help_keys(self) -> list[tuple[str, str]]:
        """(key, action) pairs for the help overlay."""
        return [
            ("Space", "pause / resume"),
            ("+ / -", "simulation speed x2 / /2 (0.25x to 64x)"),
            ("F", "max speed on / off (draws a few times a second)"),
            ("T", "rays: leading or selected car / all cars"),
            ("Click", "select a car for the network view"),
            ("H or F1", "this help"),
            ("Esc", "quit"),
        ]

    def current_world(self) -> World | None:
        """The world being drawn."""
        raise NotImplementedError

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """The HUD title and its (label, value) rows."""
        raise NotImplementedError

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """What the network view shows for one car."""
        raise NotImplementedError

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The panel below the network view (fitness chart, legend); returns True if it changed."""
        return False

    def car_colours(self, world: World) -> list[tuple[np.ndarray, tuple[int, int, int], int]]:
        """Groups of (car indices, colour, alpha) in drawing order."""
        raise NotImplementedError

    def on_key(self, key: int) -> None:
        """A key the common handler does not know (R, N, S, ...)."""

    def draw_under_cars(self, screen: pygame.Surface) -> list[pygame.Rect]:
        """Whatever goes on the track below the cars (ghost cars); returns the rectangles drawn on."""
        return []

    def idle(self) -> bool:
        """True when there is nothing left to simulate (frames are then paced even at max speed)."""
        return False

    def sprite_colours(self) -> list[tuple[tuple[int, int, int], int]]:
        """The (colour, alpha) pairs the cars are drawn in, rotated once when the layout changes."""
        return [(theme.CAR, 255), (theme.LEADER, 255), (theme.SELECTED, 255), (theme.CRASHED, theme.CRASHED_ALPHA)]

    def focus_car(self, world: World) -> int:
        """The car whose rays and network are shown: the selected one, else the leading one."""
        if self.selected is not None and self.selected < world.population:
            return self.selected
        return leading_car(world)

    # --- window ------------------------------------------------------------------------------------------------

    def open_window(self) -> None:
        """Open the resizable window (call only after every input was validated)."""
        self.screen = open_display(self.config)
        self.clock = pygame.time.Clock()
        self._last_frame_time = time.perf_counter()
        self.set_track(self.track)

    def close_window(self) -> None:
        """Save the screenshot if asked, then close the display."""
        if self.screen is not None and self.screenshot is not None:
            save_png(self.screen, self.screenshot)
            print(f"screenshot saved to {display_path(Path(self.screenshot))}")
        pygame.display.quit()
        self.screen = None

    def set_track(self, track: Track) -> None:
        """Show another track: new title, new camera and pre-rendered picture."""
        self.track = track
        pygame.display.set_caption(f"NeuroCar - {track.name}")
        self.layout()

    def layout(self) -> None:
        """Place the track view and the side panel for the current window size."""
        assert self.screen is not None
        width, height = self.screen.get_size()
        panel_width = min(theme.PANEL_WIDTH, max(0, width - MIN_VIEW_WIDTH))
        self.panel_rect = pygame.Rect(width - panel_width, 0, panel_width, height)
        self.view_rect = pygame.Rect(0, 0, width - panel_width, height)
        viewport = self.view_rect.inflate(-2 * theme.MARGIN, -2 * theme.MARGIN)
        walls = np.concatenate([self.track.left_wall, self.track.right_wall])
        self.camera = Camera.fit(walls, (viewport.left, viewport.top, viewport.width, viewport.height))
        self.track_surface = render_track(self.track, self.camera, (width, height))
        self.sprites = CarSprites(self.config.physics.car_length_m, self.config.physics.car_width_m, self.camera.scale)
        for colour, alpha in self.sprite_colours():
            self.sprites.rotations(colour, alpha)  # rotate now rather than during the first generation
        self._full_update = True

    # --- speed and poses ---------------------------------------------------------------------------------------

    @property
    def multiplier(self) -> float:
        """Simulated seconds per real second (infinite at max speed)."""
        return math.inf if self.max_speed else SPEEDS[self.speed_index]

    def reset_poses(self, world: World) -> None:
        """Forget the interpolation history (a new episode, or leaving max speed)."""
        pose = (world.state.positions.copy(), world.state.headings.copy())
        self._previous_pose = pose
        self._current_pose = pose

    def record_pose(self, world: World) -> None:
        """Remember the pose after a step, so the next frame can interpolate (skipped at max speed)."""
        if self.max_speed:
            self._current_pose = None
            return
        if self._current_pose is None:
            self.reset_poses(world)
            return
        self._previous_pose = self._current_pose
        self._current_pose = (world.state.positions.copy(), world.state.headings.copy())

    def drawn_poses(self, world: World) -> tuple[np.ndarray, np.ndarray]:
        """Positions and headings to draw: between the last two steps by the unspent fraction of the budget."""
        if self.max_speed or self._current_pose is None or self._previous_pose is None:
            return world.state.positions, world.state.headings
        if len(self._current_pose[0]) != world.population:
            return world.state.positions, world.state.headings
        alpha = min(1.0, max(0.0, self.budget))
        (old_positions, old_headings), (positions, headings) = self._previous_pose, self._current_pose
        turn = np.mod(headings - old_headings + math.pi, 2 * math.pi) - math.pi
        return old_positions + (positions - old_positions) * alpha, old_headings + turn * alpha

    def max_speed_draw_due(self) -> bool:
        """At max speed: is it time to draw? (a cheap clock read, called every step)."""
        now = time.perf_counter()
        if now < self._next_max_speed_draw:
            return False
        self._next_max_speed_draw = now + 1.0 / MAX_SPEED_DRAWS_PER_SECOND
        return True

    # --- frames ------------------------------------------------------------------------------------------------

    def frame(self) -> None:
        """One window frame: events, drawing, flip, pacing; then the step budget grows by the elapsed time."""
        if self.before_frame is not None:
            self.before_frame(self)
        self.frame_count += 1  # counted before the keys, which may abort the frame (R, N, Esc)
        self.handle_events()
        dirty = self.draw()
        if self._full_update or self.show_help:
            pygame.display.flip()
            self._full_update = self.show_help  # the frame after the help closes repaints everything
        else:
            # Sending the whole window to the X server costs more than drawing it: send only what changed,
            # where things are now and where they were last frame.
            pygame.display.update(self._last_dirty + dirty)
        self._last_dirty = dirty
        assert self.clock is not None
        # At max speed frames are rare and the simulation needs the time; otherwise pace to the frame rate.
        self.clock.tick(0 if self.max_speed and not self.paused and not self.idle() else self.config.window.fps)
        now = time.perf_counter()
        elapsed = min(MAX_FRAME_SECONDS, now - self._last_frame_time)
        self._last_frame_time = now
        if self.paused:
            self.budget = min(self.budget, 0.999)
        elif self.max_speed:
            self.budget = math.inf
        else:
            self.budget = min(self.budget, 1.0) + elapsed * self.multiplier / self.config.physics.dt_s
        if self.max_frames is not None and self.frame_count >= self.max_frames:
            self.close()

    def close(self) -> None:
        """Quit: the app's loop unwinds to its `run` through `WindowClosed`."""
        self.closed = True
        raise WindowClosed

    def handle_events(self) -> None:
        """The keys and mouse actions every window knows; others go to `on_key`."""
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.close()
            elif event.type == pygame.VIDEORESIZE:
                self.screen = pygame.display.get_surface()
                self.layout()
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                self.select_at(event.pos)
            elif event.type == pygame.KEYDOWN:
                self.handle_key(event.key)

    def handle_key(self, key: int) -> None:
        """React to one key press."""
        if key == pygame.K_ESCAPE:
            self.close()
        elif key == pygame.K_SPACE:
            self.paused = not self.paused
            self.toasts.show("paused" if self.paused else "running")
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            self.change_speed(+1)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS, pygame.K_UNDERSCORE):
            self.change_speed(-1)
        elif key == pygame.K_f:
            self.max_speed = not self.max_speed
            self.budget = math.inf if self.max_speed else 0.0
            self.toasts.show(f"speed {speed_label(self.multiplier)}")
        elif key == pygame.K_t:
            self.rays_all = not self.rays_all
            self.toasts.show("rays: all cars" if self.rays_all else "rays: leading or selected car")
        elif key in (pygame.K_h, pygame.K_F1):
            self.show_help = not self.show_help
        else:
            self.on_key(key)

    def change_speed(self, direction: int) -> None:
        """One step faster or slower (leaves max speed)."""
        if self.max_speed:
            self.max_speed = False
            self.budget = 0.0
        else:
            self.speed_index = min(len(SPEEDS) - 1, max(0, self.speed_index + direction))
        self.toasts.show(f"speed {speed_label(self.multiplier)}")

    def select_at(self, position: tuple[int, int]) -> None:
        """Select the car nearest to a click (within a few pixels), or go back to following the leader."""
        world = self.current_world()
        if world is None or not self.view_rect.collidepoint(position):
            return
        positions, _headings = self.drawn_poses(world)
        distances = np.hypot(*(self.camera.to_screen(positions) - np.asarray(position, dtype=np.float64)).T)
        nearest = int(np.argmin(distances))
        if distances[nearest] <= max(SELECT_RADIUS_PX, self.sprites.base.get_width()):
            self.selected = nearest
            self.toasts.show(f"car {nearest + 1} selected")
        else:
            self.selected = None

    # --- drawing -----------------------------------------------------------------------------------------------

    def draw(self) -> list[pygame.Rect]:
        """Draw the whole window from the current world (drawing only reads); returns the rectangles that change."""
        assert self.screen is not None
        screen = self.screen
        screen.blit(self.track_surface, (0, 0))
        dirty: list[pygame.Rect] = []
        world = self.current_world()
        if world is not None:
            positions, headings = self.drawn_poses(world)
            focus = self.focus_car(world)
            dirty += self.draw_rays(screen, world, positions, headings, focus)
            dirty += self.draw_under_cars(screen)
            for cars, colour, alpha in self.car_colours(world):
                dirty += draw_cars(screen, self.sprites, self.camera, positions[cars], headings[cars], colour, alpha)
        corner = self.texts.render(f"{self.track.name}   ·   H: help", 22, theme.TEXT_DIM)
        screen.blit(corner, (theme.MARGIN, theme.MARGIN))
        dirty += self.draw_panel(screen, world)
        dirty += self.toasts.draw(screen, self.view_rect)
        if self.show_help:
            self.help.draw(screen)
        return dirty

    def draw_rays(
        self, screen: pygame.Surface, world: World, positions: np.ndarray, headings: np.ndarray, focus: int
    ) -> list[pygame.Rect]:
        """The focused car's rays in bold, or every driving car's rays (thin) when toggled."""
        sensors = self.config.sensors
        angles = np.asarray(sensors.angles_rad)
        readings = world.observations
        dirty = []
        if self.rays_all:
            cars = np.nonzero(world.state.driving)[0]
            dirty += draw_rays(
                screen, self.camera, positions[cars], headings[cars], readings[cars], angles, sensors.range_m, False
            )
        cars = np.array([focus])
        return dirty + draw_rays(
            screen, self.camera, positions[cars], headings[cars], readings[cars], angles, sensors.range_m, True
        )

    def draw_panel_with_hud(
        self, screen: pygame.Surface, highlights: dict[str, tuple[int, int, int]] | None = None
    ) -> tuple[pygame.Rect, pygame.Rect] | None:
        """Clear the side panel and draw the HUD at its top; returns (the panel's inner area, the HUD's area), or
        None when the window is too narrow for a panel."""
        if self.panel_rect.width < 120:
            return None
        pygame.draw.rect(screen, theme.BACKGROUND, self.panel_rect)
        pygame.draw.line(screen, theme.PANEL_EDGE, self.panel_rect.topleft, self.panel_rect.bottomleft)
        inner = self.panel_rect.inflate(-2 * theme.MARGIN, -2 * theme.MARGIN)
        title, rows = self.hud_rows()
        hud_rect = pygame.Rect(inner.left, inner.top, inner.width, self.hud.height(len(rows)))
        self.hud.draw(screen, hud_rect, title, rows, highlights)
        return inner, hud_rect

    def draw_panel(self, screen: pygame.Surface, world: World | None) -> list[pygame.Rect]:
        """HUD, network view and the subclass's extra panel, stacked in the side panel; returns what changed."""
        areas = self.draw_panel_with_hud(screen)
        if areas is None:
            return []
        inner, hud_rect = areas
        snapshot = None
        caption = "Network"
        if world is not None:
            focus = self.focus_car(world)
            snapshot = self.network_snapshot(focus)
            caption = f"Network of car {focus + 1}" + (" (selected)" if self.selected == focus else " (leader)")
        top = hud_rect.bottom + theme.MARGIN
        height = self.network_view.preferred_height(snapshot, inner.bottom - top)
        network_rect = pygame.Rect(inner.left, top, inner.width, height)
        self.network_view.draw(screen, network_rect, snapshot, caption)
        dirty = [hud_rect, network_rect]
        extra = pygame.Rect(inner.left, network_rect.bottom + theme.MARGIN, inner.width, 0)
        extra.height = inner.bottom - extra.top
        if extra.height > 60 and self.draw_panel_extra(screen, extra):
            dirty.append(extra)
        return dirty

    def fps_label(self) -> str:
        """Frames per second as the clock measured them, refreshed twice a second so it stays readable."""
        now = time.perf_counter()
        if self.clock is not None and now >= self._fps_refresh:
            self._fps_text = f"{self.clock.get_fps():.0f}"
            self._fps_refresh = now + 0.5
        return self._fps_text


def leading_car(world: World) -> int:
    """The driving car with the most progress (or the car with the most progress once none is driving)."""
    state = world.state
    progress = np.where(state.driving, state.progress_m, -np.inf)
    if not state.driving.any():
        progress = state.progress_m
    return int(np.argmax(progress))
