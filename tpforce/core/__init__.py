"""The pure core: wire codec, streaming core and analysis (standard library and numpy only)."""
