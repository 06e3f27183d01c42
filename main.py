"""Run NeuroCar from a source checkout: `python main.py ...` is the same as `neurocar ...`."""

from neurocar.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
