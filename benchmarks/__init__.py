"""Benchmarks: what users feel, at the region's scale and England's. Run `python -m benchmarks.run`."""
