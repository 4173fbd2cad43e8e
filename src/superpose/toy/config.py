"""Configs for learned toy models: the model, its features, importance and training."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..base.config import FrozenConfig
from ..features import FeatureConfig, PerInstanceFeature, _check_unit_interval, instances_implied
from .limits import unusable, why_not
from .models import ModelKind


class TrainConfig(FrozenConfig):
    """Optimisation settings (defaults follow the paper's notebook)."""

    steps: int = Field(10_000, ge=1, le=10_000_000, description="optimiser steps")
    batch_size: int = Field(1024, ge=1, le=1_000_000, description="samples per step per instance")
    lr: float = Field(1e-3, gt=0, le=10, description="peak learning rate")
    optimizer: Literal["adamw", "adam"] = Field("adamw", description="adamw or adam")
    weight_decay: float = Field(0.01, ge=0, le=10, description="AdamW decoupled weight decay")
    schedule: Literal["constant", "linear", "cosine"] = Field(
        "constant", description="learning-rate schedule after warm-up (decays to 0)"
    )
    warmup_steps: int = Field(0, ge=0, description="linear warm-up steps")
    restarts: int = Field(
        1, ge=1, le=1000, description="best-of-N: train N seeds per instance, keep the lowest loss"
    )
    snapshot_every: int | None = Field(
        None, ge=1, description="save weights and loss every k steps (learning dynamics)"
    )
    l1_hidden: float = Field(0.0, ge=0, description="L1 penalty on hidden activations h")
    eval_batch: int = Field(
        8192, ge=1, le=10_000_000, description="fresh samples for the final loss estimate"
    )
    kernel: Literal["auto", "native", "torch"] = Field(
        "auto",
        description="training step: native = one fused C kernel per step on the CPU (sampling, "
        "forward and gradients, compiled on first use with the system C compiler; CPU, at most "
        "1024 hidden units); torch = PyTorch ops (also CUDA and wider models); auto = native "
        "where it applies and builds up to 128 hidden units (wider, PyTorch is faster), else torch",
    )
    compile: Literal["auto", "on", "off"] = Field(
        "auto",
        description="torch.compile the PyTorch training step: on, off, or auto (only when "
        "steps × instances × batch × features >= 1e10, where the ~20-70 s warm-up pays off)",
    )


class ToyConfig(FrozenConfig):
    """A batch of toy models trained together, one per instance."""

    model: ModelKind = Field("relu_output", description="linear | relu_output | relu_hidden | abs")
    n_features: int = Field(5, ge=1, le=100_000, description="input features n")
    n_hidden: int = Field(2, ge=1, le=100_000, description="hidden dimensions / neurons m")
    n_instances: int | None = Field(
        None, ge=1, le=1_000_000, description="instances; default: implied by sparsity/importance"
    )
    features: FeatureConfig = Field(default_factory=FeatureConfig, description="input features")
    importance: PerInstanceFeature = Field(
        1.0,
        description="loss weight I_i >= 0: a number, a list per feature, or [instances][features]",
    )
    importance_decay: float | None = Field(
        None, gt=0, le=10, description="if set, I_i = decay**i (overrides importance)"
    )
    train: TrainConfig = Field(default_factory=TrainConfig, description="training settings")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed (init, data)")
    device: str = Field(
        "auto", pattern=r"^(auto|cpu|cuda(:\d{1,3})?)$", description="auto | cpu | cuda | cuda:N"
    )

    @field_validator("importance")
    @classmethod
    def _importance_range(cls, v):
        return _check_unit_interval(v, upper_open=False, name="importance")

    @model_validator(mode="after")
    def _instances_consistent(self):
        implied = {
            x
            for x in (
                instances_implied(self.features.sparsity, "instances"),
                instances_implied(self.importance, "features")
                if isinstance(self.importance, list)
                and self.importance
                and isinstance(self.importance[0], list)
                else None,
            )
            if x is not None and x != 1
        }
        if len(implied) > 1:
            raise ValueError(f"sparsity and importance imply different instance counts {implied}")
        if implied and self.n_instances is not None and self.n_instances not in implied:
            raise ValueError(
                f"n_instances={self.n_instances} but sparsity/importance give {implied.pop()}"
            )
        return self

    @model_validator(mode="after")
    def _lists_fit_the_features(self):
        """A per-feature list (importance, or rows of [instances][features]) has n_features
        entries: caught here, not as a tensor error when training starts."""
        for value, name, along in (
            (self.importance, "importance", "features"),
            (self.features.sparsity, "features.sparsity", "instances"),
        ):
            if not isinstance(value, list) or not value:
                continue
            rows = value if isinstance(value[0], list) else [value] if along == "features" else []
            lengths = sorted({len(r) for r in rows} - {self.n_features})
            if lengths:
                raise ValueError(
                    f"{name}: {lengths[0]} values per instance, n_features is {self.n_features}"
                )
        return self

    @model_validator(mode="after")
    def _native_kernel_applies(self):
        if self.train.kernel == "native":
            reason = why_not(self.device, self.n_hidden)
            if reason:
                raise ValueError(unusable(reason))
        return self

    @property
    def instances(self) -> int:
        """Resolved number of instances (settings, before best-of-N restarts)."""
        if self.n_instances is not None:
            return self.n_instances
        for value, axis in ((self.features.sparsity, "instances"), (self.importance, "features")):
            if (
                isinstance(value, list)
                and value
                and (axis == "instances" or isinstance(value[0], list))
            ):
                return len(value)
        return 1
