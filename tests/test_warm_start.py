"""The head start of the commands that need torch: their modules load without torch (so it can import on a second
thread while the compiled simulation loads), and the head start itself leaves the results alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from neurocar.commands import warm_start


def test_evolve_and_evaluate_load_without_torch_or_numba():
    code = textwrap.dedent(
        """
        import sys
        import neurocar.commands.evaluate, neurocar.commands.evolve
        print(sorted(name for name in ("torch", "numba") if name in sys.modules))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_background_import_loads_torch_and_the_named_modules():
    code = textwrap.dedent(
        """
        import sys
        from neurocar.commands.warm_start import begin_import
        begin_import(("neurocar.learn.model_file", "no_such_module_anywhere")).join()
        print("torch" in sys.modules, "neurocar.learn.model_file" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]  # a module that fails to import is left to its real importer


def test_loading_the_compiled_code_changes_no_result(oval, config):
    from neurocar.sim.world import World

    def drive() -> tuple:
        world = World(oval, config.physics, config.sensors, config.episode, population=3)
        world.reset()
        for step in range(200):
            world.step(np.array([step % 3, 1, (step // 7) % 3]))
        return world.state_floats.tobytes(), world.observations.tobytes()

    before = drive()
    warm_start.load_compiled_code()
    assert drive() == before
