"""phase-2x1 (TMS "Superposition as a phase change"): the phase diagram of an extra feature,
n=2, m=1, empirical vs theoretical (shared code in `_phase.py`)."""

from ._phase import register_case

register_case("2x1", 20, 5, 8)
