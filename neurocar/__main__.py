"""`python -m neurocar ...` is the same as `neurocar ...`."""

from neurocar.cli import main

raise SystemExit(main())
