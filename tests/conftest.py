"""Shared test fixtures: the default config, a few loaded tracks, and a helper that runs the CLI in-process.

Drawing tests need pygame without a screen or a sound card, so the dummy SDL drivers are set here, before any test
module imports pygame.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from neurocar.cli import main
from neurocar.config import Config, load_config
from neurocar.paths import TRACKS_DIR
from neurocar.sim.track import Track, load_track


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--fuzz-count N`: how many broken inputs the fuzz tests try (default 250; thousands locally)."""
    parser.addoption(
        "--fuzz-count",
        type=int,
        default=int(os.environ.get("NEUROCAR_FUZZ_COUNT", "250")),
        help="number of fuzz cases over all loaders (default 250, or NEUROCAR_FUZZ_COUNT)",
    )


@dataclass
class CliResult:
    """Exit code and captured output of one in-process `neurocar` call."""

    code: int
    out: str
    err: str


@pytest.fixture(scope="session")
def config() -> Config:
    """The shipped default configuration."""
    return load_config()


def _shipped(name: str, config: Config) -> Track:
    return load_track(
        TRACKS_DIR / name,
        config.physics.min_turn_radius_m,
        config.physics.collision_radius_m,
        config.physics.car_width_m,
    )


@pytest.fixture(scope="session")
def oval(config: Config) -> Track:
    """The easiest shipped track."""
    return _shipped("oval.yaml", config)


@pytest.fixture(scope="session")
def classic(config: Config) -> Track:
    """The default track."""
    return _shipped("classic.yaml", config)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Call `neurocar.cli.main(arguments)` and return its exit code with what it printed."""

    def run(*arguments: str) -> CliResult:
        capsys.readouterr()
        code = main([str(argument) for argument in arguments])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
