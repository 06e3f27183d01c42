"""`neurocar tracks`: listing a folder with `--dir`, and broken files listed as broken without stopping the others."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from checkout import PROJECT_ROOT

from neurocar.commands.tracks import broken_summary
from neurocar.paths import TRACKS_DIR, resolve_track_path

TRACK_FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "tracks"
GOOD = {"oval.yaml": "Oval", "stadium.yaml": "Stadium"}
BROKEN = {
    "not_yaml.yaml": "not valid YAML at line 6",
    "missing_key.yaml": "missing key 'width_m'",
    "too_tight_for_car.yaml": "centerline: the curve 114 m from the start (radius 4.2 m) is too tight for the car to "
    "turn (it needs 7.2 m); spread the points of that curve out",
    "latin_1.yaml": "the track file is not UTF-8 text (byte 9)",
}
SUMMARY = "4 of 6 track files are broken; see 'neurocar tracks check FILE'"


@pytest.fixture
def mixed_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of two good tracks and four broken files, listed from inside it (short display paths)."""
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(TRACKS_DIR / name, folder / name)
    for name in ("not_yaml.yaml", "missing_key.yaml", "too_tight_for_car.yaml"):
        shutil.copy(TRACK_FIXTURES / name, folder / name)
    (folder / "latin_1.yaml").write_bytes("name: Café\n".encode("latin-1"))
    (folder / "notes.txt").write_text("not a track, not listed\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return folder


def test_table_lists_the_good_tracks_and_names_each_broken_file_with_its_reason(run_cli, mixed_folder):
    result = run_cli("tracks", "--dir", "mine")
    assert result.code == 0 and result.err == ""
    lines = result.out.splitlines()
    assert lines[0].split() == ["name", "--track", "length", "width", "difficulty"]
    assert lines[1].startswith("Oval     mine/oval.yaml ") and lines[1].endswith("14m  1 *....")
    assert lines[2].startswith("Stadium  mine/stadium.yaml ") and lines[2].endswith("14m  1 *....")
    broken_lines = lines[3:-1]
    assert len(broken_lines) == len(BROKEN)
    for line, name in zip(broken_lines, sorted(BROKEN), strict=True):
        assert line.split()[:2] == ["-", f"mine/{name}"]
        assert line.endswith(f"  broken: {BROKEN[name]}")
    assert lines[-1] == SUMMARY
    assert "notes.txt" not in result.out


def test_json_marks_broken_rows_and_keeps_stdout_valid(run_cli, mixed_folder):
    result = run_cli("tracks", "--dir", mixed_folder, "--json")
    assert result.code == 0
    assert result.err == f"{SUMMARY}\n"
    rows = {Path(row["path"]).name: row for row in json.loads(result.out)}
    assert set(rows) == set(GOOD) | set(BROKEN)
    for name, track_name in GOOD.items():
        assert rows[name]["broken"] is False and rows[name]["name"] == track_name
        assert rows[name]["difficulty"] == 1 and "error" not in rows[name]
    for name, reason in BROKEN.items():
        assert rows[name] == {
            "name": None,
            "track": f"mine/{name}",
            "path": f"mine/{name}",
            "length_m": None,
            "width_m": None,
            "difficulty": None,
            "default": False,
            "broken": True,
            "error": reason,
        }


def test_the_shipped_tracks_are_listed_without_dir(run_cli):
    result = run_cli("tracks")
    assert result.code == 0 and "broken" not in result.out
    assert len(result.out.splitlines()) == 1 + len(list(TRACKS_DIR.glob("*.yaml")))


def test_shipped_tracks_are_named_as_the_track_option_takes_them_from_any_folder(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = json.loads(run_cli("tracks", "--json").out)
    assert {row["track"] for row in rows} == {path.stem for path in TRACKS_DIR.glob("*.yaml")}
    for row in rows:
        assert resolve_track_path(row["track"]).resolve() == Path(row["path"]).resolve()
    table = run_cli("tracks").out.splitlines()
    assert table[1].split()[:2] == ["Oval", "oval"] and str(TRACKS_DIR) not in "\n".join(table)


def test_an_empty_folder_says_so(run_cli, tmp_path):
    (tmp_path / "empty").mkdir()
    table = run_cli("tracks", "--dir", tmp_path / "empty")
    assert table.code == 0 and table.err == ""
    assert table.out == f"no track files (*.yaml) in {tmp_path / 'empty'}\n"
    listing = run_cli("tracks", "--dir", tmp_path / "empty", "--json")
    assert listing.code == 0 and json.loads(listing.out) == []


@pytest.mark.parametrize(
    ("folder", "message"),
    [("nowhere", "--dir nowhere: folder not found"), ("file.yaml", "--dir file.yaml: is a file, not a folder")],
)
def test_a_missing_folder_or_a_file_is_a_one_line_error(run_cli, tmp_path, monkeypatch, folder, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.yaml").write_text("name: Not a folder\n", encoding="utf-8")
    result = run_cli("tracks", "--dir", folder)
    assert result.code == 2 and result.out == ""
    assert result.err == f"neurocar: error: {message}\n"


def test_the_closing_line_counts_in_words():
    assert broken_summary(1, 8) == "1 of 8 track files is broken; see 'neurocar tracks check FILE'"
    assert broken_summary(2, 8) == "2 of 8 track files are broken; see 'neurocar tracks check FILE'"
    assert broken_summary(1, 1) == "1 of 1 track file is broken; see 'neurocar tracks check FILE'"
