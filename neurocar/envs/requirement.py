"""The check that the optional Gymnasium dependency is there, with the one-line advice of how to get it."""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install 'neurocar[gym]'"


def require_gymnasium() -> None:
    """Raise `ImportError` saying how to install Gymnasium when it is missing."""
    if importlib.util.find_spec("gymnasium") is None:
        raise ImportError(f"the NeuroCar Gymnasium environments need the gymnasium package: {INSTALL_HINT}")
