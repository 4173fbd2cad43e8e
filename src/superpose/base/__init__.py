"""The base layer: errors, configs, devices, fits, the version and the one JSON serialiser.

Everything above imports from here; this package imports nothing of superpose outside itself.
"""
