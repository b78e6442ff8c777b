"""The simulated probe: a virtual device speaking the real wire protocol, driven by a hand model."""
