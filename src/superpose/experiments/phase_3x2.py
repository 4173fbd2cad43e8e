"""phase-3x2 (TMS "Superposition as a phase change"): the phase diagram of an extra feature,
n=3, m=2, empirical vs theoretical (shared code in `_phase.py`)."""

from ._phase import register_case

register_case("3x2", 16, 6, 18)
