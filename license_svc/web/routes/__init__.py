"""HTTP routes, one module per area.  Each is a thin adapter over domain functions."""
