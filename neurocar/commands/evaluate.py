"""`neurocar evaluate`: drive a trained model, one car per track and every track at once; report laps, progress
and crashes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from neurocar.commands.common import config_from_args, explicit_keys, load_tracks, model_path, require_at_least
from neurocar.commands.replay_files import check_replay_out
from neurocar.errors import NeuroCarError
from neurocar.learn.evaluation import evaluate_network_on_tracks
from neurocar.learn.evaluation_replay import evaluation_replay
from neurocar.learn.model_file import config_for_model, load_model
from neurocar.paths import display_path
from neurocar.sim.replay import save_replay


def run(arguments: argparse.Namespace) -> int:
    """Evaluate the model on each track and print a table (or JSON)."""
    require_at_least("--laps", arguments.laps, 1)
    check_replay_out(arguments)
    model = load_model(model_path(arguments.model))
    config = config_for_model(model, config_from_args(arguments), explicit_keys(arguments))
    tracks = load_tracks(arguments.track, config)
    if arguments.replay_out is not None and len(tracks) != 1:
        raise NeuroCarError(f"--replay-out saves the drive on one track; {len(tracks)} tracks were given")
    results = evaluate_network_on_tracks(model.network, config, tracks, arguments.laps)
    lapped = sum(result.laps_completed >= result.laps_target for result in results)
    mean_progress = sum(result.progress_percent for result in results) / len(results)
    if arguments.replay_out is not None:
        replay = evaluation_replay(model.network, Path(model.path).name, config, tracks[0], arguments.laps)
        written = save_replay(arguments.replay_out, replay, arguments.force)
        # With --json, stdout holds only the JSON; say where the replay went on stderr.
        print(f"replay saved to {display_path(written)}", file=sys.stderr if arguments.json else sys.stdout)
    if arguments.json:
        summary = {"lapped": lapped, "total": len(results), "mean_progress_percent": round(mean_progress, 2)}
        print(
            json.dumps(
                {"model": model.path, "tracks": [result.to_json() for result in results], "summary": summary},
                indent=2,
            )
        )
        return 0
    print(f"model {model.path} ({model.training.get('method', 'unknown method')}), {arguments.laps} lap(s) asked")
    name_width = max(5, *(len(result.track) for result in results))
    print(f"{'track':<{name_width}}  {'level':>5}  {'laps':>5}  {'progress':>15}  {'crashed':<22}  lap times")
    for result in results:
        if result.crashed and result.crash_position is not None:
            x, y = result.crash_position
            crash = f"yes at ({x:.0f}, {y:.0f})"
        else:
            crash = "stalled" if result.stalled else "no"
        times = ", ".join(f"{lap:.2f}s" for lap in result.lap_times_s) or "-"
        print(
            f"{result.track:<{name_width}}  {result.difficulty:>5}  "
            f"{result.laps_completed:>2}/{result.laps_target:<2}  {result.progress_m:>7.0f}m "
            f"{result.progress_percent:>5.1f}%  {crash:<22}  {times}"
        )
    print(f"lapped {lapped}/{len(results)} track(s) ({arguments.laps} lap(s) each); mean progress {mean_progress:.1f}%")
    return 0
