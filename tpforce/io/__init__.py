"""The IO layer: serial sources, the simulated probe and files. May use pyserial, never Qt."""
