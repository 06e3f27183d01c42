"""The project's own promises: the README's set-up commands are exactly what CI runs, and tracks ship valid."""

from __future__ import annotations

import re

import yaml
from checkout import PROJECT_ROOT

from neurocar.config import load_config
from neurocar.paths import DEFAULT_CONFIG, TRACKS_DIR, resolve_track_path
from neurocar.sim.track import load_track


def readme_setup_commands() -> list[str]:
    """The commands in the README's first code block."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block is not None, "the README must start with a bash code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_starts_with_install_then_test_command() -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    first_block = text.index("```bash")
    assert text[:first_block].count("\n") <= 3, "the set-up commands must open the README"
    commands = readme_setup_commands()
    assert len(commands) == 2
    assert "pip install" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_commands() -> None:
    ci_lines = [line.strip() for line in (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    for command in readme_setup_commands():
        assert command in ci_lines, f"CI does not run the README command {command!r}"


def test_dependencies_are_lower_bounds_only() -> None:
    text = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    requirements = re.findall(r'^\s*"([A-Za-z0-9_.-]+)([<>=!~]=?[^"]*)?",?\s*$', text, re.MULTILINE)
    assert requirements, "no dependencies found"
    for name, specifier in requirements:
        assert "==" not in specifier and "<" not in specifier, f"{name} is pinned or capped: {specifier}"


def test_every_shipped_track_loads_and_the_default_exists() -> None:
    config = load_config()
    paths = sorted(TRACKS_DIR.glob("*.yaml"))
    difficulties = set()
    for path in paths:
        track = load_track(
            path, config.physics.min_turn_radius_m, config.physics.collision_radius_m, config.physics.car_width_m
        )
        difficulties.add(track.difficulty)
        assert 8 <= track.width_m <= 20
    assert len(paths) >= 6
    assert difficulties == {1, 2, 3, 4, 5}
    default = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))["track"]["default"]
    assert resolve_track_path(default).exists()


def test_every_subpackage_is_listed_for_the_wheel() -> None:
    """The wheel lists its packages by name: a new subpackage left out of pyproject.toml would be missing."""
    text = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    listed = re.search(r"^packages = \[(.*?)\]", text, re.DOTALL | re.MULTILINE)
    assert listed is not None
    names = set(re.findall(r'"([\w.]+)"', listed.group(1)))
    package_root = PROJECT_ROOT / "neurocar"
    found = {
        ".".join(("neurocar", *init.parent.relative_to(package_root).parts))
        for init in package_root.rglob("__init__.py")
    }
    assert found <= names, f"add to [tool.setuptools] packages: {sorted(found - names)}"
