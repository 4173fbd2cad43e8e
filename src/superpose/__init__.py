"""superpose: computation in superposition — learn toy models, build circuits, measure, sweep."""

__version__ = "0.1.0"

from .circuits.boolean import (
    BooleanLayer,
    ChosenGatesConfig,
    UAndConfig,
    build_chosen_gates,
    build_uand,
)
from .circuits.boolean_deep import DeepBooleanConfig, build_deep
from .circuits.deep import CiS2Config, CiS2Network, build_cis2
from .circuits.errors import run_profile
from .circuits.residual import CiS1Config, build_cis1
from .config import FrozenConfig, dump_yaml, load_yaml
from .errors import SuperposeError
from .experiments import registry as experiments
from .experiments import run_experiment
from .features import FeatureConfig, FeatureDistribution
from .sweep import map_grid
from .toy.config import ToyConfig, TrainConfig
from .toy.io import load_trained, save_trained
from .toy.metrics import (
    dimensions_per_feature,
    feature_dimensionality,
    feature_norms,
    interference,
    polysemanticity,
)
from .toy.models import ToyModel
from .toy.train import TrainResult, train

__all__ = [
    "BooleanLayer",
    "ChosenGatesConfig",
    "CiS1Config",
    "CiS2Config",
    "CiS2Network",
    "DeepBooleanConfig",
    "FeatureConfig",
    "FeatureDistribution",
    "FrozenConfig",
    "SuperposeError",
    "ToyConfig",
    "ToyModel",
    "TrainConfig",
    "TrainResult",
    "UAndConfig",
    "__version__",
    "build_chosen_gates",
    "build_cis1",
    "build_cis2",
    "build_deep",
    "build_uand",
    "dimensions_per_feature",
    "dump_yaml",
    "experiments",
    "feature_dimensionality",
    "feature_norms",
    "interference",
    "load_trained",
    "load_yaml",
    "map_grid",
    "polysemanticity",
    "run_experiment",
    "run_profile",
    "save_trained",
    "train",
]
