"""The command implementations behind `neurocar.cli`, one module per command (layer 4)."""
