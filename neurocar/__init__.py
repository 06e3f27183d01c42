"""NeuroCar: small neural networks learn to drive round 2D tracks."""

__version__ = "0.1.0"
