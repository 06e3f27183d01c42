"""The packed buffers the kernels read: every section where the header says, holding what its track and the world
gave it, with global indices, and the views writing through to the buffers."""

from __future__ import annotations

import numpy as np
import pytest

from neurocar.sim import packed
from neurocar.sim.world import World


@pytest.fixture
def two_tracks(oval, classic, config):
    return World([oval, classic], config.physics, config.sensors, config.episode, 3, max_seconds=[12.0, 34.0])


def test_the_header_lays_the_sections_end_to_end_after_itself(two_tracks):
    floats, integers = two_tracks.packed.floats, two_tracks.packed.integers
    bounds = integers[: packed.HEADER_LENGTH].reshape(-1, 2)
    float_bounds = bounds[: len(packed.FLOAT_SECTION_COLUMNS)]
    integer_bounds = bounds[len(packed.FLOAT_SECTION_COLUMNS) :]
    for section_bounds, first, size in (
        (float_bounds, 0, len(floats)),
        (integer_bounds, packed.HEADER_LENGTH, len(integers)),
    ):
        assert section_bounds[0, 0] == first and section_bounds[-1, 1] == size
        assert np.array_equal(section_bounds[1:, 0], section_bounds[:-1, 1])  # no gap, no overlap
    columns = packed.FLOAT_SECTION_COLUMNS + packed.INTEGER_SECTION_COLUMNS
    assert all((stop - start) % width == 0 for (start, stop), width in zip(bounds, columns, strict=True))


def test_every_section_holds_its_tracks_parts_with_global_indices(two_tracks, oval, classic, config):
    world = two_tracks
    pack = world.packed
    walls = len(oval.wall_starts)
    assert np.array_equal(pack.walls[:walls, :2], oval.wall_starts)
    assert np.array_equal(pack.walls[walls:, :2], classic.wall_starts)
    assert np.array_equal(pack.walls[walls:, 2:], classic.wall_ends - classic.wall_starts)
    assert np.array_equal(pack.centre[len(oval.centerline) :, :2], classic.centerline)
    second = pack.track_integers[1]
    assert second[packed.TRACK_WALL_START] == walls and second[packed.TRACK_WALL_COUNT] == len(classic.wall_starts)
    assert second[packed.TRACK_CENTRE_START] == len(oval.centerline)
    assert np.array_equal(pack.track_floats[:, packed.TRACK_MAX_SECONDS], [12.0, 34.0])
    assert pack.track_floats[1, packed.TRACK_LENGTH] == pytest.approx(classic.length_m)
    # The classic track's collision grid lists classic walls only, by their place in the shared wall table.
    grid = pack.grid_integers[second[packed.TRACK_COLLISION_GRID]]
    offsets = pack.grid_offsets[grid[packed.GRID_OFFSETS_START] :]
    cells = grid[packed.GRID_COLUMNS] * grid[packed.GRID_ROWS]
    listed = pack.grid_walls[grid[packed.GRID_WALLS_START] :][: offsets[cells]]
    assert listed.size and listed.min() >= walls and listed.max() < walls + len(classic.wall_starts)
    assert np.array_equal(listed - walls, world.geometries[1].collision_grid.walls)
    assert np.array_equal(pack.ray_angles, config.sensors.angles_rad)
    assert pack.parameters[packed.PARAMETER_DT] == config.physics.dt_s
    assert pack.parameters[packed.PARAMETER_RANGE] == config.sensors.range_m
    assert pack.lap_records.shape == (world.car_count, 4) and pack.outcomes.shape == (world.car_count,)


def test_the_views_are_the_buffers(two_tracks):
    pack = two_tracks.packed
    for name in ("walls", "centre", "grid_floats", "track_floats", "ray_angles", "parameters", "lap_records"):
        assert np.shares_memory(getattr(pack, name), pack.floats), name
    for name in ("grid_offsets", "grid_walls", "grid_integers", "track_integers", "outcomes", "next_chunk"):
        assert np.shares_memory(getattr(pack, name), pack.integers), name
    pack.lap_records[2, 3] = 7.5
    start = pack.integers[2 * packed.LAP_RECORDS]
    assert pack.floats[start + 2 * packed.LAP_RECORD_COLUMNS + 3] == 7.5


def test_a_wrong_number_of_step_parameters_is_refused(two_tracks):
    parts = [geometry.parts(10.0) for geometry in two_tracks.geometries]
    with pytest.raises(ValueError, match="expected 6 step parameters, got 5"):
        packed.pack_world(parts, np.zeros(3), np.zeros(5), 2)


def test_the_module_docstring_table_lists_every_section_as_laid_out():
    lines = [line for line in packed.__doc__.splitlines() if line.startswith("| ")]
    rows = [line.split("|")[1:4] for line in lines if line.split("|")[1].split()[0].isupper()]
    listed = [
        (name.split()[0], int(name.split()[1].strip("()")), kind.strip(), shape.strip()) for name, kind, shape in rows
    ]
    columns = packed.FLOAT_SECTION_COLUMNS + packed.INTEGER_SECTION_COLUMNS
    assert len(listed) == packed.SECTION_COUNT == len(columns)
    for name, number, kind, shape in listed:
        assert getattr(packed, name) == number, name
        assert kind == ("floats" if number < len(packed.FLOAT_SECTION_COLUMNS) else "integers"), name
        width = shape.strip("()").split(",")[-1].strip()
        assert (int(width) if width else 1) == columns[number], name
