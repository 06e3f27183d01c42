"""The track windows (`sim`, `watch`, `drive`, `race`, `replay`): a track with cars, a side panel, speed keys.

A `WindowApp` composes the parts: the `WindowShell` (display, layout, key bindings, help, notices, frames,
screenshot), the `Pacer` (speed, pause, step budget, max-speed stepping) and the `TrackScene` (camera, track
picture, sprites, interpolated poses). A frame is: the shell's test hook and events, the drawing (track, rays,
cars, panel, then the shell's header, notices and help), the flip and the pacing; the window's loop runs
`pacer.run_steps(...)` between frames. What a window simulates, its keys (`key_bindings`), its HUD rows and what its
panel shows are the window's own, in its module.
"""

from __future__ import annotations

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.sim.track import Track
from neurocar.sim.world import World
from neurocar.ui import theme
from neurocar.ui.hud import Hud
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot, NetworkView
from neurocar.ui.pacing import SPEEDS, Pacer, parse_speed, speed_label
from neurocar.ui.shell import WindowClosed, WindowShell
from neurocar.ui.track_scene import CarGroups, TrackScene

__all__ = ["SPEEDS", "WindowApp", "WindowClosed", "leading_car", "parse_speed", "speed_label"]

MIN_EXTRA_HEIGHT = 60


class WindowApp:
    """A window showing one track and the cars on it; the subclass says what drives and what the panel shows."""

    help_title = "NeuroCar"

    def __init__(
        self,
        config: Config,
        track: Track,
        *,
        max_frames: int | None = None,
        screenshot: str | None = None,
        speed: float = 1.0,
    ) -> None:
        self.config = config
        self.track = track
        self.shell = WindowShell(config, self.help_title, max_frames=max_frames, screenshot=screenshot)
        self.pacer = Pacer(config.physics.dt_s, speed)
        self.scene = TrackScene(config, track)
        self.texts = self.shell.texts
        self.notices = self.shell.notices
        self.hud = Hud(self.texts)
        self.network_view = NetworkView(self.texts, config.sensors.angles_deg)
        self.rays_all = False
        self.selected: int | None = None
        self.shell.on_resize = self.layout
        self.shell.set_bindings(self.key_bindings())  # again at opening, once the subclass has set itself up

    # --- what a window provides --------------------------------------------------------------------------------

    def key_bindings(self) -> list[Binding]:
        """The window's keys (the shell adds help and quit)."""
        return self.speed_bindings()

    def current_world(self) -> World | None:
        """The world being drawn."""
        raise NotImplementedError

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """The HUD title and its (label, value) rows."""
        raise NotImplementedError

    def car_colours(self, world: World) -> CarGroups:
        """Groups of (car indices, colour, alpha) in drawing order."""
        raise NotImplementedError

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """What the network view shows for one car (None: no network)."""
        return None

    def draw_panel_extra(self, surface: pygame.Surface, rect: pygame.Rect) -> bool:
        """The panel below the network view (fitness chart, legend); returns True if it changed."""
        return False

    def draw_under_cars(self, screen: pygame.Surface) -> list[pygame.Rect]:
        """Whatever goes on the track below the cars (ghost cars); returns the rectangles drawn on."""
        return []

    def draw_over_track(self, screen: pygame.Surface) -> list[pygame.Rect]:
        """Whatever goes over the track view before the notices and the help (a countdown); returns its
        rectangles."""
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

    # --- bindings the track windows share ----------------------------------------------------------------------

    def speed_bindings(self) -> list[Binding]:
        """Space, + / - and F."""
        return self.pacer.bindings(self.notices.show)

    def rays_binding(self) -> Binding:
        """T: the rays of the focused car only, or of every car."""
        return Binding("T", "rays: leading or selected car / all cars", self.toggle_rays, (pygame.K_t,))

    def select_binding(self, text: str = "select a car for the network view") -> Binding:
        """A left click on a car selects it; elsewhere on the track, back to following the leader."""
        return Binding("Click", text, self.select_at, click=True)

    def toggle_rays(self) -> None:
        """T."""
        self.rays_all = not self.rays_all
        self.notices.show("rays: all cars" if self.rays_all else "rays: leading or selected car")

    def select_at(self, position: tuple[int, int]) -> None:
        """Select the car nearest to a click (within a few pixels), or go back to following the leader."""
        world = self.current_world()
        if world is None or not self.shell.layout.view_rect.collidepoint(position):
            return
        car = self.scene.car_at(world, position, self.pacer.fraction)
        self.selected = car
        if car is not None:
            self.notices.show(f"car {car + 1} selected")

    # --- window ------------------------------------------------------------------------------------------------

    @property
    def view_rect(self) -> pygame.Rect:
        """The track view (the window without the side panel)."""
        return self.shell.layout.view_rect

    @property
    def panel_rect(self) -> pygame.Rect:
        """The side panel."""
        return self.shell.layout.panel_rect

    @property
    def scale(self) -> float:
        """Text and panel scale of the current window size (1.0 at 1280x800)."""
        return self.shell.layout.scale

    def help_keys(self) -> list[tuple[str, str]]:
        """(keys, what they do) as the help overlay lists them: this window's bindings and the shell's."""
        self.shell.set_bindings(self.key_bindings())
        return self.shell.help_lines()

    def open_window(self) -> None:
        """Open the resizable window (call only after every input was validated)."""
        self.shell.set_bindings(self.key_bindings())
        self.shell.open(f"NeuroCar - {self.track.name}")

    def close_window(self) -> None:
        """Save the screenshot if asked, then close the display."""
        self.shell.close_window()

    def close(self) -> None:
        """Quit: the loop unwinds to `run` through `WindowClosed`."""
        self.shell.close()

    def set_track(self, track: Track) -> None:
        """Show another track: new title, new camera and pre-rendered picture."""
        self.track = track
        self.scene = TrackScene(self.config, track)
        pygame.display.set_caption(f"NeuroCar - {track.name}")
        self.layout()

    def layout(self) -> None:
        """Fit the track into the stage of the current layout."""
        assert self.shell.screen is not None
        self.scene.fit(self.shell.layout.stage_rect, self.shell.screen.get_size(), self.sprite_colours())
        self.shell.repaint()

    def reset_poses(self, world: World) -> None:
        """Forget the interpolation history."""
        self.scene.reset_poses(world)

    def record_pose(self, world: World) -> None:
        """Remember the pose after a step (not at max speed, where frames are rare)."""
        self.scene.record_pose(world, not self.pacer.max_speed)

    # --- frames ------------------------------------------------------------------------------------------------

    def frame(self) -> None:
        """One window frame: events, drawing, flip, pacing; then the step budget grows by the elapsed time."""
        self.shell.begin_frame()
        dirty = self.draw()
        self.shell.end_frame(dirty, self.pacer.frame_rate(self.config.window.fps, self.idle()))
        self.pacer.after_frame()

    def draw(self) -> list[pygame.Rect]:
        """Draw the whole window from the current world (drawing only reads); returns the rectangles that change."""
        screen = self.shell.screen
        assert screen is not None
        self.scene.draw_track(screen)
        dirty: list[pygame.Rect] = []
        world = self.current_world()
        if world is not None:
            positions, headings = self.scene.drawn_poses(world, self.pacer.fraction)
            focus = self.focus_car(world)
            dirty += self.scene.draw_rays(screen, world, positions, headings, focus, self.rays_all)
            dirty += self.draw_under_cars(screen)
            dirty += self.scene.draw_cars(screen, positions, headings, self.car_colours(world))
        dirty += self.draw_panel(screen, world)
        if not self.shell.show_help:
            dirty += self.draw_over_track(screen)
        return dirty + self.shell.draw_chrome(screen, self.track.name)

    def draw_hud(
        self, screen: pygame.Surface, highlights: dict[str, tuple[int, int, int]] | None = None
    ) -> tuple[pygame.Rect, pygame.Rect] | None:
        """The panel's frame and the HUD at its top; returns (the panel's inner area, the HUD's area), or None
        when the window is too narrow for a panel."""
        inner = self.shell.draw_panel_frame(screen)
        if inner is None:
            return None
        title, rows = self.hud_rows()
        hud_rect = pygame.Rect(inner.left, inner.top, inner.width, self.hud.height(len(rows), scale=self.scale))
        self.hud.draw(screen, hud_rect, title, rows, highlights, self.scale)
        return inner, hud_rect

    def draw_panel(self, screen: pygame.Surface, world: World | None) -> list[pygame.Rect]:
        """HUD, network view and the window's extra panel, stacked in the side panel; returns what changed."""
        areas = self.draw_hud(screen)
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
        height = self.network_view.preferred_height(snapshot, inner.bottom - top, self.scale)
        network_rect = pygame.Rect(inner.left, top, inner.width, height)
        dirty = [hud_rect]
        if network_rect.height > 120:
            self.network_view.draw(screen, network_rect, snapshot, caption, self.scale)
            dirty.append(network_rect)
        extra = pygame.Rect(inner.left, network_rect.bottom + theme.MARGIN, inner.width, 0)
        extra.height = inner.bottom - extra.top
        if extra.height > MIN_EXTRA_HEIGHT and self.draw_panel_extra(screen, extra):
            dirty.append(extra)
        return dirty

    def fps_label(self) -> str:
        """Frames per second as the clock measured them."""
        return self.shell.fps_label()


def leading_car(world: World) -> int:
    """The driving car with the most progress (or the car with the most progress once none is driving)."""
    state = world.state
    progress = np.where(state.driving, state.progress_m, -np.inf)
    if not state.driving.any():
        progress = state.progress_m
    return int(np.argmax(progress))
