"""The layers of DESIGN.md hold: the simulation core loads neither torch nor pygame, headless training never loads
pygame, and every module imports only from its own layer or below (checked statically with `ast`)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neurocar

PACKAGE = Path(neurocar.__file__).parent
# Third-party packages each layer may use (the standard library is always allowed).
ALLOWED_EXTERNAL = {
    0: {"numpy", "yaml", "numba"},
    1: {"numpy", "yaml", "numba"},
    2: {"numpy", "yaml", "numba", "torch"},
}
ALLOWED_EXTERNAL[3] = ALLOWED_EXTERNAL[2] | {"pygame"}
HEADLESS_COMMANDS = ("common", "tracks", "bench", "evolve", "evaluate", "supervised", "reinforcement")
# The Gymnasium environments sit beside the simulation they wrap and draw with the view, only when rendering.
OPTIONAL_EXTERNAL = {"neurocar.envs": {"gymnasium"}}
# The chart renderer draws with pygame, imported only inside its functions, when a chart is drawn.
# Modules that may use a library only inside the functions that need it: the chart draws with pygame, and
# headless evolution runs (and saves) without torch, which only making or reading an nn.Module needs.
TORCH_FREE_EVOLUTION = (
    "neurocar.learn.policy",
    "neurocar.learn.genetic",
    "neurocar.learn.problem",
    "neurocar.learn.neuroevolution",
    "neurocar.learn.evaluation",
    "neurocar.learn.model_file",
    "neurocar.learn.checkpoint",
    "neurocar.learn.reporters",
    "neurocar.learn.torch_file",
    "neurocar.commands.evolve",
)
LAZY_EXTERNAL = {"neurocar.chart": {"pygame"}, **{module: {"torch"} for module in TORCH_FREE_EVOLUTION}}


def layer_of(module: str) -> int:
    """The layer of a `neurocar...` module name."""
    parts = module.split(".")
    if len(parts) == 1:
        return 0  # the package itself
    top = parts[1]
    layer_zero = (
        "geometry",
        "grid_kernels",
        "config",
        "schema",
        "paths",
        "errors",
        "chart",
        "files",
    )
    if top in (*layer_zero, "lesson_text"):
        return 0
    return {"sim": 1, "learn": 2, "ui": 3, "envs": 3, "cli": 4, "commands": 4, "__main__": 4}[top]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str, top_level_only: bool = False) -> list[str]:
    """Absolute names of every module imported by a source file (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    names = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                names.append(".".join([*base, node.module] if node.module else base))
            elif node.module != "__future__":
                names.append(node.module)
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda path: module_name(path))
def test_modules_import_only_their_layer_or_below(path):
    module = module_name(path)
    layer = layer_of(module)
    for imported in imports_of(path, module):
        top = imported.split(".")[0]
        if top == "neurocar":
            assert layer_of(imported) <= layer, (
                f"{module} (layer {layer}) imports {imported} (layer {layer_of(imported)})"
            )
        elif layer < 4 and top not in sys.stdlib_module_names:
            optional = [names for package, names in OPTIONAL_EXTERNAL.items() if module.startswith(package)]
            allowed = ALLOWED_EXTERNAL[layer].union(*optional, LAZY_EXTERNAL.get(module, set()))
            assert top in allowed, f"{module} (layer {layer}) imports {imported}"


@pytest.mark.parametrize("name", ["cli", *(f"commands/{name}" for name in HEADLESS_COMMANDS)])
def test_headless_entry_modules_do_not_import_the_view(name):
    path = PACKAGE / f"{name}.py"
    for imported in imports_of(path, module_name(path)):
        assert not imported.startswith(("pygame", "neurocar.ui", "gymnasium", "neurocar.envs")), (
            f"{name} imports {imported}"
        )


@pytest.mark.parametrize("module", sorted(LAZY_EXTERNAL))
def test_lazy_modules_import_their_library_only_inside_functions(module):
    path = PACKAGE / f"{module.split('.', 1)[1].replace('.', '/')}.py"
    top_level = {name.split(".")[0] for name in imports_of(path, module, top_level_only=True)}
    assert not top_level & LAZY_EXTERNAL[module], f"{module} imports {top_level & LAZY_EXTERNAL[module]} at import"


def test_only_the_environments_import_gymnasium():
    for path in MODULES:
        module = module_name(path)
        if not module.startswith("neurocar.envs"):
            assert not any(name.split(".")[0] == "gymnasium" for name in imports_of(path, module)), module


def run_fresh(code: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_simulation_core_loads_neither_torch_nor_pygame(tmp_path):
    core = [module_name(path) for path in MODULES if layer_of(module_name(path)) <= 1]
    assert "neurocar.sim.world" in core and "neurocar.geometry" in core and "neurocar.config" in core
    output = run_fresh(
        f"""
        import importlib, sys
        for name in {core!r}:
            importlib.import_module(name)
        print(sorted(name for name in ("torch", "pygame") if name in sys.modules))
        """,
        tmp_path,
    )
    assert output.strip() == "[]"


def test_headless_training_loads_pygame_only_to_draw_its_chart(tmp_path):
    learn = [module_name(path) for path in MODULES if layer_of(module_name(path)) == 2]
    assert "neurocar.learn.neuroevolution" in learn
    output = run_fresh(
        f"""
        import importlib, sys
        import neurocar.chart
        for name in {learn!r}:
            importlib.import_module(name)
        loaded_before_drawing = []
        original = neurocar.chart.load_pygame
        def load_pygame():
            loaded_before_drawing.append("pygame" in sys.modules)
            return original()
        neurocar.chart.load_pygame = load_pygame
        from neurocar.cli import main
        code = main(["train", "evolve", "--track", "oval", "--population", "4", "--generations", "1",
                     "--set", "episode.max_seconds=2", "--run-dir", "run"])
        evolve_draws = len(loaded_before_drawing)
        code = code or main(["train", "rl", "--track", "oval", "--cars", "4", "--updates", "1",
                             "--set", "reinforcement.rollout_steps=4", "--run-dir", "rl"])
        print(code, loaded_before_drawing[:1], evolve_draws > 0, len(loaded_before_drawing) > evolve_draws,
              "torch" in sys.modules, "gymnasium" in sys.modules, sys.modules["pygame"].display.get_init())
        """,
        tmp_path,
    )
    # pygame was not loaded when the first chart was drawn, both runs drew one, and no display was started.
    assert output.strip().splitlines()[-1] == "0 [False] True True True False False"
    for folder in ("run", "rl"):
        assert (tmp_path / folder / "best.pt").exists()
        assert (tmp_path / folder / "fitness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_headless_evolution_never_loads_torch_and_its_files_load_with_torch(tmp_path):
    """Importing torch takes longer than a whole short run: `train evolve` evolves, checkpoints and saves its model
    without it, and what it writes is what torch.load reads."""
    output = run_fresh(
        """
        import contextlib, io, sys
        from neurocar.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["train", "evolve", "--track", "oval", "--population", "4", "--generations", "2",
                         "--set", "episode.max_seconds=2", "--run-dir", "run", "--out", "model.pt"])
        print(code, "torch" in sys.modules)
        from neurocar.learn.checkpoint import load_checkpoint
        from neurocar.learn.model_file import load_model
        from pathlib import Path
        print(load_model("model.pt").training["generations"], load_checkpoint(Path("run")).generation)
        """,
        tmp_path,
    )
    assert output.strip().splitlines() == ["0 False", "2 2"]


def test_commands_that_never_simulate_do_not_load_the_compiler(tmp_path):
    output = run_fresh(
        """
        import contextlib, io, sys
        from neurocar.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["tracks"])
            try:
                main(["--help"])
            except SystemExit:
                pass
        print(code, "numba" in sys.modules)
        """,
        tmp_path,
    )
    assert output.strip() == "0 False"
