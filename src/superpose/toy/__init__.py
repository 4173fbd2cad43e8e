"""Learned toy models of superposition (TMS): models, training, measurements, theory."""
