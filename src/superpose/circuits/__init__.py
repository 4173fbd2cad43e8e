"""Hand-built networks computing in superposition: CiS2 (deep MLP) and CiS1 (residual)."""

from .allocation import Allocation, make_allocation, pair_bound
from .deep import CiS2Config, CiS2Network, build_cis2, dense_forward, verify_network
from .errors import ErrorProfile, fit_c_w, measure, predicted, run_profile
from .io import ground_truth, save_cis2
from .residual import CiS1Config, CiS1Network, build_cis1
from .small import (
    SmallCircuits,
    from_torch,
    make_circuits,
    random_circuits,
    rotation_circuits,
    sample_inputs,
)

__all__ = [
    "Allocation",
    "CiS1Config",
    "CiS1Network",
    "CiS2Config",
    "CiS2Network",
    "ErrorProfile",
    "SmallCircuits",
    "build_cis1",
    "build_cis2",
    "dense_forward",
    "fit_c_w",
    "from_torch",
    "ground_truth",
    "make_allocation",
    "make_circuits",
    "measure",
    "pair_bound",
    "predicted",
    "random_circuits",
    "rotation_circuits",
    "run_profile",
    "sample_inputs",
    "save_cis2",
    "verify_network",
]
