"""What the package ships and how it is found: the data folders in the wheel, the names that work from any folder,
and the version recorded in every file NeuroCar writes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import tomllib
import torch
import yaml
from checkout import PROJECT_ROOT

import neurocar
from neurocar.learn.run_directory import CHECKPOINT_FILE
from neurocar.paths import (
    ASSETS_DIR,
    DEFAULT_CONFIG,
    SHIPPED_DRIVER,
    TRACKS_DIR,
    resolve_model_path,
    resolve_track_path,
    shipped_folder,
)

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_version_is_defined_once_in_the_package():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "neurocar.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", neurocar.__version__)


def test_every_package_folder_is_in_the_wheel_list():
    """The wheel lists its packages by name (the data folders are mapped in): a new subpackage must be added."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    package_root = Path(neurocar.__file__).parent
    code_packages = {
        ".".join(path.parent.relative_to(package_root.parent).parts) for path in package_root.rglob("__init__.py")
    }
    assert code_packages <= listed, f"missing from pyproject.toml: {sorted(code_packages - listed)}"
    mapped = PYPROJECT["tool"]["setuptools"]["package-dir"]
    assert mapped == {"neurocar.tracks": "tracks", "neurocar.configs": "configs", "neurocar.assets": "assets"}


def test_a_checkout_finds_its_top_level_folders():
    assert TRACKS_DIR == PROJECT_ROOT / "tracks"
    assert shipped_folder("configs") == PROJECT_ROOT / "configs"
    assert DEFAULT_CONFIG.is_file() and SHIPPED_DRIVER.is_file() and (ASSETS_DIR / "car.png").is_file()


def test_names_resolve_to_shipped_files_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_track_path("oval") == TRACKS_DIR / "oval.yaml"
    assert resolve_track_path("oval.yaml") == TRACKS_DIR / "oval.yaml"
    assert resolve_track_path("shipped") == TRACKS_DIR
    assert resolve_model_path("driver") == SHIPPED_DRIVER
    # A path never reaches into the shipped folders, and a name that is not shipped is left as given.
    assert resolve_track_path("../tracks/oval") == Path("../tracks/oval")
    assert resolve_track_path("nowhere") == Path("nowhere")
    assert resolve_model_path("driver.pt") == Path("driver.pt")


def test_a_path_the_user_gave_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shipped").mkdir()
    (tmp_path / "driver").write_bytes(b"")
    (tmp_path / "oval.yaml").write_text("name: mine\n", encoding="utf-8")
    assert resolve_track_path("shipped") == Path("shipped")
    assert resolve_model_path("driver") == Path("driver")
    assert resolve_track_path("oval.yaml") == Path("oval.yaml")


def test_shipped_names_on_the_command_line(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    report = run_cli("evaluate", "--model", "driver", "--track", "shipped", "--track", "oval")
    assert report.code == 0, report.err
    assert f"model {SHIPPED_DRIVER}" in report.out
    assert "lapped 14/14 track(s)" in report.out  # the 13 shipped tracks, then the oval again
    missing = run_cli("evaluate", "--model", "driver.pt")
    assert missing.code == 2
    assert missing.err == (
        "neurocar: error: --model driver.pt: model file not found (the shipped general driver is --model driver)\n"
    )


def test_init_takes_the_shipped_driver(tmp_path, monkeypatch, run_cli):
    """The shipped driver, kept as an elite, laps the oval in the first generation (four fresh cars do not)."""
    monkeypatch.chdir(tmp_path)
    common = ["train", "evolve", "--track", "oval", "--generations", "1", "--population", "4", "--target-laps", "1"]
    common += ["--seed", "2"]  # a seed whose four fresh cars crash
    result = run_cli(*common, "--init", "driver", "--run-dir", "with")
    assert result.code == 0, result.err
    assert "reached 1 lap(s) in generation 1" in result.out
    fresh = run_cli(*common, "--run-dir", "without")
    assert fresh.code == 0 and "reached" not in fresh.out


def test_every_written_file_records_the_version(tmp_path, monkeypatch, run_cli):
    monkeypatch.chdir(tmp_path)
    result = run_cli(
        "train", "evolve", "--track", "oval", "--generations", "1", "--population", "4", "--run-dir", "run",
        "--set", "episode.max_seconds=2",
    )  # fmt: skip
    assert result.code == 0, result.err
    model = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    checkpoint = torch.load(tmp_path / "run" / CHECKPOINT_FILE, weights_only=True)
    assert model["neurocar_version"] == checkpoint["neurocar_version"] == neurocar.__version__


def test_files_without_a_version_still_load(tmp_path, monkeypatch, run_cli):
    """Files written before the version was recorded load as before."""
    monkeypatch.chdir(tmp_path)
    driver = torch.load(SHIPPED_DRIVER, weights_only=True)
    driver.pop("neurocar_version", None)
    torch.save(driver, tmp_path / "old_driver.pt")
    assert run_cli("evaluate", "--model", "old_driver.pt", "--track", "oval").code == 0
    result = run_cli(
        "train", "evolve", "--track", "oval", "--generations", "1", "--population", "4", "--run-dir", "run",
        "--set", "episode.max_seconds=2",
    )  # fmt: skip
    assert result.code == 0
    for name in ("best.pt", CHECKPOINT_FILE):
        payload = torch.load(tmp_path / "run" / name, weights_only=True)
        del payload["neurocar_version"]
        torch.save(payload, tmp_path / "run" / name)
    assert run_cli("evaluate", "--model", "run/best.pt", "--track", "oval").code == 0
    resumed = run_cli("train", "evolve", "--resume", "run", "--generations", "2")
    assert resumed.code == 0, resumed.err


def test_the_wheel_carries_the_shipped_data(tmp_path):
    """Build the wheel from a copy of the checkout (a build never writes into the checkout) and look inside."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    for name in ("neurocar", "tracks", "configs", "assets"):
        shutil.copytree(PROJECT_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("neurocar-*.whl")
    assert wheel.name.startswith(f"neurocar-{neurocar.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_tracks = {f"neurocar/tracks/{path.name}" for path in TRACKS_DIR.glob("*.yaml")}
    assert shipped_tracks <= names
    assert {"neurocar/configs/default.yaml", "neurocar/assets/driver.pt", "neurocar/assets/car.png"} <= names
    assert "neurocar/assets/icon.png" in names
    # The README's picture and the tests stay in the repository.
    assert not any(name.endswith("screenshot.png") or name.startswith("tests/") for name in names)
    default = yaml.safe_load(zipfile.ZipFile(wheel).read("neurocar/configs/default.yaml"))
    assert f"neurocar/tracks/{default['track']['default']}" in names
