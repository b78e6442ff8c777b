"""tpforce: pressure feedback for trigger-point therapy."""

__version__ = "0.1.0"
