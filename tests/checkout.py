"""The source checkout the tests run from: its README, CI script and test fixtures (never used by the package)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
