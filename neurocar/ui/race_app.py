"""`neurocar race` and `neurocar replay`: several cars on one track in one window, with a finishing order.

The window composes the parts other windows use: the arrow keys (`SteeringKeys`, as in the drive window), the
window shell and its speed keys (`WindowApp`), and the ghost cars. What it drives is a `Race` (the countdown, the
world steps, parking at the finish) or, for a replay, a `PlayedReplay`; both say who is where and in which order.
The frame loop spends the step budget on `tick()`, so the countdown runs in simulated time and follows the speed
keys like the cars do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pygame

from neurocar.config import Config
from neurocar.sim.race import Race, Standing, finishing_order, format_time, standings_lines
from neurocar.sim.replay import ReplayPlayer
from neurocar.sim.track import Track
from neurocar.sim.world import LapEvent, World
from neurocar.ui import theme
from neurocar.ui.app import WindowApp, WindowClosed
from neurocar.ui.ghosts import GhostCars
from neurocar.ui.key_bindings import Binding
from neurocar.ui.network_view import NetworkSnapshot
from neurocar.ui.standings_view import RaceEntry, draw_results, draw_standings
from neurocar.ui.steering import SteeringKeys
from neurocar.ui.text_layout import fit_text

PLACE_NAMES = {1: "1st", 2: "2nd", 3: "3rd"}


class RaceModel(Protocol):
    """What the race window drives and shows (a live `Race` or a `PlayedReplay`)."""

    world: World
    laps: int | None
    finished: np.ndarray

    @property
    def done(self) -> bool: ...

    @property
    def countdown_label(self) -> str | None: ...

    def tick(self) -> bool: ...

    def restart(self) -> None: ...

    def standings(self) -> list[Standing]: ...


class PlayedReplay:
    """A replay as a race the window can show: each tick plays one saved step."""

    def __init__(self, player: ReplayPlayer) -> None:
        self.player = player
        self.world = player.world
        self.laps = 1 if player.replay.is_lap else player.replay.laps
        self.finished = np.zeros(player.replay.population, dtype=bool)
        self.match: bool | None = None

    @property
    def done(self) -> bool:
        """Every saved step was played."""
        return self.player.finished

    @property
    def countdown_label(self) -> str | None:
        """Replays start at "go"."""
        return None

    def tick(self) -> bool:
        """Play one saved step; at the end, check the final state against the saved checksum."""
        if self.player.finished:
            return False
        self.player.step()
        state = self.world.state
        if self.laps is not None:
            self.finished |= ~state.driving & (state.laps >= self.laps)
        if self.player.finished:
            self.match = self.player.matches()
        return True

    def restart(self) -> None:
        """From the start again."""
        self.player.restart()
        self.finished[:] = False
        self.match = None

    def standings(self) -> list[Standing]:
        """The order now, by the replay's laps (or every lap driven, for a drive)."""
        state = self.world.state
        laps = self.laps or max(1, int(state.laps.max()))
        events = state.lap_events
        if self.player.replay.is_lap:  # the one lap it holds, timed from its own start
            number = self.player.replay.lap_number
            events = [
                LapEvent(event.car, 1, event.lap_time_s, event.lap_time_s) for event in events if event.lap == number
            ]
        return finishing_order(events, laps, state.progress_m, state.crashed, state.stalled, state.driving)


class RaceApp(WindowApp):
    """Cars racing (or a replay playing) on one track, with the order in the panel."""

    def __init__(
        self,
        config: Config,
        track: Track,
        race: RaceModel,
        entries: Sequence[RaceEntry],
        *,
        title: str = "Race",
        person: int | None = None,
        autopilot: object | None = None,
        pilots: Callable[[np.ndarray], np.ndarray] | None = None,
        ghosts: GhostCars | None = None,
        max_frames: int | None = None,
        screenshot: str | Path | None = None,
        speed: float = 1.0,
    ) -> None:
        self.title = title
        self.help_title = f"NeuroCar - {title.lower()}"
        self.race = race
        self.entries = list(entries)
        self.person = person
        self.autopilot = autopilot
        self.pilots = pilots
        if isinstance(race, Race) and race.choose is None:
            race.choose = self.choose_actions
        self.steering = SteeringKeys()
        self.ghosts = ghosts or GhostCars([])
        self.results_printed = False
        super().__init__(config, track, max_frames=max_frames, screenshot=screenshot, speed=speed)
        if person is not None:
            self.shell.event_filter = self.steering.handle
        self.selected = person
        self.reset_poses(race.world)

    # --- keys --------------------------------------------------------------------------------------------------

    def key_bindings(self) -> list[Binding]:
        """Steering (with a person at the keys), start again, the speed keys, rays, and the click that picks the
        car whose rays are shown."""
        keys: list[Binding] = []
        if self.person is not None and self.autopilot is None:
            keys.append(Binding("Left / Right", "steer your car (no key: straight)"))
        again = "race again from the countdown" if self.person is not None else "play again from the start"
        keys.append(Binding("R", again, self.restart_by_key, (pygame.K_r,)))
        back = "yours" if self.person is not None else "the leader"
        return [
            *keys,
            *self.speed_bindings(),
            self.rays_binding(),
            self.select_binding(f"show that car's rays (click the road: back to {back})"),
        ]

    def focus_car(self, world: World) -> int:
        """The car whose rays are shown: the one clicked, else yours, else the leader."""
        if self.selected is None and self.person is not None:
            return self.person
        return super().focus_car(world)

    def person_action(self, world: World) -> int:
        """Your car's action: the held arrow keys, or the autopilot's choice."""
        if self.autopilot is not None:
            cars = slice(self.person, self.person + 1)
            state = world.state
            return int(self.autopilot.actions(state.positions[cars], state.headings[cars], state.progress_m[cars])[0])
        return self.steering.action

    def choose_actions(self, world: World) -> np.ndarray:
        """Every car's action: yours from the keys (or the autopilot), the others' from their models."""
        actions = np.ones(world.population, dtype=np.int64)
        others = np.array([car for car in range(world.population) if car != self.person], dtype=np.int64)
        if len(others) and self.pilots is not None:
            actions[others] = self.pilots(world.observations[others])
        if self.person is not None:
            actions[self.person] = self.person_action(world)
        return actions

    def restart_by_key(self) -> None:
        """R: start again."""
        self.restart()
        self.notices.show("race restarted" if self.person is not None else "replay restarted")

    def restart(self) -> None:
        """The race (or replay) from the start."""
        self.race.restart()
        self.ghosts.restart()
        self.results_printed = False
        self.pacer.budget = 0.0
        self.reset_poses(self.race.world)

    # --- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> int:
        """Open the window and race until it is closed; prints the finishing order; returns the exit code."""
        self.open_window()
        keys = "arrow keys steer, " if self.person is not None and self.autopilot is None else ""
        laps = f"{self.race.laps} lap(s)" if self.race.laps else "no lap count"
        cars = f"{len(self.entries)} car{'s' if len(self.entries) != 1 else ''}"
        print(f"{self.title.lower()} on {self.track.name}: {cars}, {laps}; {keys}Esc quits", flush=True)
        try:
            while True:
                self.step_frame()
        except WindowClosed:
            pass
        finally:
            self.close_window()
            if not self.results_printed:
                self.print_results()
        return 0

    def tick(self) -> bool:
        """One step of the budget: the countdown, or the world and the ghosts."""
        counting = self.race.countdown_label not in (None, "GO!")
        moved = self.race.tick()
        if moved and not counting:
            self.ghosts.step(None if self.person is None else int(self.race.world.state.laps[self.person]))
            self.record_pose(self.race.world)
        return moved

    def step_frame(self) -> None:
        """The steps this frame's budget allows, then one frame."""
        self.pacer.run_steps(self.tick, lambda: not self.race.done)
        if self.race.done and not self.results_printed:
            self.print_results()
        self.frame()

    def idle(self) -> bool:
        """The race is over."""
        return self.race.done

    def print_results(self) -> None:
        """The finishing order (or the order so far) on stdout."""
        self.results_printed = True
        standings = self.race.standings()
        laps = self.race.laps or max(1, max(standing.laps for standing in standings))
        over = self.race.done
        header = f"{self.title.lower()} on {self.track.name}, {laps} lap(s): "
        print(header + ("finishing order" if over else "stopped before the end; order so far"))
        for line in standings_lines(standings, [entry.label for entry in self.entries], laps):
            print(line)
        match = getattr(self.race, "match", None)
        if match is not None:
            print("final state matches the saved one" if match else "final state DIFFERS from the saved one")

    # --- what the window shows ---------------------------------------------------------------------------------

    def current_world(self) -> World:
        """The race's world."""
        return self.race.world

    def sprite_colours(self) -> list[tuple[tuple[int, int, int], int]]:
        """Each car's colour, bright and dimmed."""
        return [(entry.colour, alpha) for entry in self.entries for alpha in (255, theme.CRASHED_ALPHA)]

    def car_colours(self, world: World) -> list[tuple[np.ndarray, tuple[int, int, int], int]]:
        """Each car in its colour, stopped ones dimmed, your car last (on top)."""
        stopped = ~world.state.driving & ~self.race.finished
        order = [car for car in range(len(self.entries)) if car != self.person]
        if self.person is not None:
            order.append(self.person)
        return [
            (np.array([car]), self.entries[car].colour, theme.CRASHED_ALPHA if stopped[car] else 255) for car in order
        ]

    def draw_under_cars(self, screen: pygame.Surface) -> list[pygame.Rect]:
        """The ghosts, and a ring round your car so you find it among the others."""
        scene = self.scene
        dirty = self.ghosts.draw(screen, scene.sprites, scene.camera, self.pacer.fraction)
        if self.person is not None:
            positions, _headings = scene.drawn_poses(self.race.world, self.pacer.fraction)
            centre = scene.camera.to_screen(positions[self.person])
            radius = max(12, scene.sprites.base.get_width())
            dirty.append(pygame.draw.circle(screen, theme.ACCENT, centre.tolist(), radius, 2))
        return dirty

    def network_snapshot(self, car: int) -> NetworkSnapshot | None:
        """The race panel shows the order instead of a network."""
        return None

    def laps_row(self) -> tuple[str, str]:
        """The laps of the race, or the lap you are driving of them ("2 / 3"; "done" once you finished)."""
        laps = self.race.laps
        if self.person is None or not laps:
            return ("Laps", str(laps) if laps else "-")
        state = self.race.world.state
        if self.race.finished[self.person]:
            return ("Your lap", "done")
        if not state.driving[self.person] and not self.race.countdown_label:
            status = next(item.status for item in self.race.standings() if item.car == self.person)
            return ("Your lap", status)
        return ("Your lap", f"{min(int(state.laps[self.person]) + 1, laps)} / {laps}")

    def hud_rows(self) -> tuple[str, list[tuple[str, str]]]:
        """Track, laps, time, speed, FPS (and the check of a replay)."""
        room = max(40, self.panel_rect.width - 2 * theme.MARGIN - 110)
        world = self.race.world
        rows = [
            ("Track", fit_text(self.texts, self.track.name, 22, room)),
            self.laps_row(),
            ("Cars driving", f"{int(world.state.driving.sum())} / {len(self.entries)}"),
            ("Race time", format_time(world.steps * self.config.physics.dt_s)),
            ("Speed", self.pacer.label()),
            ("FPS", self.fps_label()),
        ]
        if len(self.ghosts) and self.person is not None:
            gap = self.ghosts.gap_label(float(world.state.progress_m[self.person]), self.track.length_m)
            rows.insert(3, ("Ahead of ghost", gap))
            ghost_lap = self.ghosts.lap_time_label()
            if ghost_lap is not None:
                state, person = world.state, self.person
                lap_time = world.time_s - float(state.lap_start_s[person]) if state.driving[person] else math.nan
                delta = self.ghosts.lap_delta_label(float(state.progress_m[self.person]), lap_time, self.track.length_m)
                rows.insert(4, ("Lap vs ghost", delta or "-"))
                rows.insert(3, ("Ghost lap", fit_text(self.texts, ghost_lap, 22, room)))
        match = getattr(self.race, "match", None)
        player = getattr(self.race, "player", None)
        if player is not None:
            rows[3] = ("Step", f"{player.step_index} / {player.replay.steps}")
            rows.append(("Check", "-" if match is None else ("matches" if match else "DIFFERS")))
        return self.title, rows

    def draw_panel(self, screen: pygame.Surface, world: World | None) -> list[pygame.Rect]:
        """The HUD, then the order of the cars."""
        match = getattr(self.race, "match", None)
        colours = {"Check": theme.TEXT_DIM if match is None else (theme.GOOD if match else theme.BAD)}
        areas = self.draw_hud(screen, colours)
        if areas is None:
            return []
        inner, hud_rect = areas
        order_rect = pygame.Rect(inner.left, hud_rect.bottom + theme.MARGIN, inner.width, 0)
        order_rect.height = inner.bottom - order_rect.top
        if order_rect.height < 60:
            return [hud_rect]
        title = "Results" if self.race.done else "Order"
        draw_standings(
            screen, order_rect, self.texts, self.race.standings(), self.entries, self.race.laps, title, self.person
        )
        return [hud_rect, order_rect]

    def draw_over_track(self, screen: pygame.Surface) -> list[pygame.Rect]:
        """The countdown or the result over the track."""
        label = self.race.countdown_label
        if label is not None:
            return [self.draw_banner(screen, [label], 150 if len(label) == 1 else 120)]
        if self.race.done:
            heading = [line for line in self.result_lines() if not line.startswith("your laps")]
            standings = self.race.standings()
            return [
                draw_results(
                    screen, self.view_rect, self.texts, standings, self.entries, self.race.laps, heading, self.person
                )
            ]
        return []

    def result_lines(self) -> list[str]:
        """What the banner says when the race is over."""
        standings = self.race.standings()
        lines = ["Race over" if self.person is not None else "Replay over"]
        if self.person is not None:
            mine = next(standing for standing in standings if standing.car == self.person)
            place = PLACE_NAMES.get(mine.place, f"{mine.place}th")
            if mine.status == "finished":
                lines.append(f"You finished {place} of {len(standings)} in {format_time(mine.finish_time_s)}")
                lines.append("your laps: " + ", ".join(f"{lap:.2f}s" for lap in mine.lap_times_s))
            else:
                lines.append(f"You {mine.status}: {place} of {len(standings)}")
        else:
            winner = standings[0]
            lines.append(f"Leader: {self.entries[winner.car].label}")
        match = getattr(self.race, "match", None)
        if match is not None:
            lines.append("final state matches the saved one" if match else "final state DIFFERS from the saved one")
        lines.append("R: again  ·  Esc: quit")
        return lines

    def draw_banner(self, screen: pygame.Surface, lines: list[str], size: int) -> pygame.Rect:
        """Lines of text in a box in the middle of the track view (each fitted to the view)."""
        room = self.view_rect.width - 6 * theme.MARGIN
        surfaces = []
        for index, line in enumerate(lines):
            line_size = size if index == 0 else max(22, size * 2 // 3 if size < 100 else 30)
            colour = theme.ACCENT if index == 0 else theme.TEXT
            surfaces.append(self.texts.render(fit_text(self.texts, line, line_size, room), line_size, colour))
        width = max(surface.get_width() for surface in surfaces) + 4 * theme.MARGIN
        height = sum(surface.get_height() for surface in surfaces) + 2 * theme.MARGIN + 6 * (len(surfaces) - 1)
        box = pygame.Rect(0, 0, width, height)
        box.center = self.view_rect.center
        pygame.draw.rect(screen, theme.PANEL, box, border_radius=12)
        pygame.draw.rect(screen, theme.ACCENT, box, 2, border_radius=12)
        y = box.top + theme.MARGIN
        for surface in surfaces:
            screen.blit(surface, surface.get_rect(midtop=(box.centerx, y)))
            y += surface.get_height() + 6
        return box
