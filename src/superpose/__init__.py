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
from .config import FrozenConfig, dump_yaml, load_yaml
from .errors import SuperposeError
from .features import FeatureConfig, FeatureDistribution
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
    "build_deep",
    "build_uand",
    "dimensions_per_feature",
    "dump_yaml",
    "feature_dimensionality",
    "feature_norms",
    "interference",
    "load_trained",
    "load_yaml",
    "polysemanticity",
    "save_trained",
    "train",
]
