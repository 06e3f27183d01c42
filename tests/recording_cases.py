"""The broken recording fixtures and the exact error each one gives, shared by the loader and training tests."""

from pathlib import Path

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"

BROKEN_SESSIONS = [
    (
        "empty_session",
        "tests/fixtures/recordings/empty_session: empty session (no frames in frames.csv); delete it or record again",
    ),
    (
        "meta_only",
        "tests/fixtures/recordings/meta_only: has meta.yaml but no frames.csv; the session recorded nothing "
        "(delete it)",
    ),
    (
        "missing_column",
        "tests/fixtures/recordings/missing_column/frames.csv line 1: missing column 'sensor_2' (a recording "
        "with 3 sensors has the columns step,time_s,sensor_0,sensor_1,sensor_2,action,x_m,y_m,heading_rad,"
        "progress_m,lap,driver)",
    ),
    (
        "non_numeric",
        "tests/fixtures/recordings/non_numeric/frames.csv line 3: column 'sensor_0' is not a number ('far')",
    ),
]
