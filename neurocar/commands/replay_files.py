"""What the windowed commands share about replays: `--replay-out` and `--best-lap-out` (checked first, saved at the
end, also on Ctrl-C, a stop signal and a closed window) and `--ghost` (loaded and checked against the track and
physics)."""

from __future__ import annotations

import argparse
from pathlib import Path

from neurocar.commands.common import load_one_track
from neurocar.config import Config
from neurocar.errors import NeuroCarError
from neurocar.paths import display_path
from neurocar.sim.best_lap import BestLapRecorder
from neurocar.sim.replay import (
    ReplayPlayer,
    ReplayRecorder,
    check_replay_destination,
    check_same_physics,
    check_same_track,
    load_replay,
    replay_track,
    save_replay,
)
from neurocar.sim.track import Track
from neurocar.sim.world import World


def check_replay_out(arguments: argparse.Namespace) -> None:
    """Fail before any driving if `--replay-out` cannot be written (or exists without `--force`)."""
    if arguments.replay_out is not None:
        check_replay_destination(arguments.replay_out, arguments.force)


def check_best_lap_out(arguments: argparse.Namespace) -> None:
    """Fail before any driving if `--best-lap-out` cannot be written (or exists without `--force`)."""
    best_lap_out = getattr(arguments, "best_lap_out", None)
    if best_lap_out is not None:
        check_replay_destination(best_lap_out, arguments.force, "--best-lap-out", "best.lap")
        if arguments.replay_out is not None and Path(arguments.replay_out).resolve() == Path(best_lap_out).resolve():
            raise NeuroCarError("--best-lap-out and --replay-out name the same file; give two file names")


def save_best_lap_out(arguments: argparse.Namespace, best_laps: BestLapRecorder | None) -> None:
    """Write the best lap to `--best-lap-out` and say whose it was and where (or that no lap was completed)."""
    if best_laps is None or getattr(arguments, "best_lap_out", None) is None:
        return
    lap = best_laps.best
    if lap is None or lap.lap_time_s is None:
        print("no clean lap was completed; no best lap saved")
        return
    written = save_replay(arguments.best_lap_out, lap, arguments.force)
    print(
        f"best lap saved to {display_path(written)}: lap {lap.lap_number} of {lap.cars[0].label} in "
        f"{lap.lap_time_s:.2f}s (race it: neurocar race --ghost {display_path(written)})"
    )


def save_replay_out(arguments: argparse.Namespace, recorder: ReplayRecorder | None, world: World) -> None:
    """Write the recorded drive to `--replay-out` and say where (or that nothing was driven)."""
    if recorder is None or arguments.replay_out is None:
        return
    replay = recorder.latest(world)
    if replay is None:
        print("nothing was driven; no replay saved")
        return
    written = save_replay(arguments.replay_out, replay, arguments.force)
    print(f"replay saved to {display_path(written)} ({replay.steps} steps, {replay.duration_s:.1f} s)")


def track_for(arguments: argparse.Namespace, config: Config) -> Track:
    """The track to drive: `--track`, else the track of the first `--ghost`, else the config's default."""
    if arguments.track is None and arguments.ghost:
        return replay_track(load_replay(arguments.ghost[0]), None, config.physics)
    return load_one_track(arguments.track, config)


def load_ghosts(paths: list[str] | None, track: Track, config: Config) -> list[ReplayPlayer]:
    """The `--ghost` replays, each checked to have been driven on this track with these physics."""
    players = []
    for path in paths or []:
        replay = load_replay(path)
        check_same_track(replay, track, "the track of this race")
        check_same_physics(replay, config.physics, config.sensors, "this race")
        players.append(ReplayPlayer(replay, track))
    return players
