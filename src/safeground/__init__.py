"""SafeGround: an open-source mine action information system."""

__version__ = "0.1.0"
