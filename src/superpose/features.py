"""Sparse synthetic features, batched over instances: x has shape [instances, batch, features].

Feature i is zero with probability S_i (its sparsity), else takes a value: uniform on [0, 1],
signed (uniform on [-1, 1]) or boolean (1). Structures: independent features, correlated sets
(one draw decides whether the whole set is zero), anticorrelated sets (zero w.p. S, else exactly one
member active) and exactly-k-active.

Random numbers are the main cost of a training step, so independent features draw only what is
active: along each (instance, feature) column the gaps between active rows are geometric, drawn
by inversion (`_geometric_rows`), and one more uniform per active entry gives its value. A dense
column costs about as much as a dense draw; a column of density p costs a fraction ≈ 2p of it.
`sample_dense` keeps the plain dense draw (one uniform per entry) as the yardstick in tests.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, field_validator

from .base.config import FrozenConfig
from .base.errors import SuperposeError

Structure = Literal["independent", "correlated", "anticorrelated", "exactly_k"]
Values = Literal["uniform", "signed", "boolean"]
PerInstanceFeature = float | list[float] | list[list[float]]


def _check_unit_interval(value: PerInstanceFeature, upper_open: bool, name: str):
    flat = value if isinstance(value, float | int) else None
    items = [flat] if flat is not None else _flatten(value)
    if not items:
        raise ValueError(f"{name} must not be empty")
    for v in items:
        if not (0.0 <= v < 1.0 if upper_open else v >= 0.0):
            rng = "[0, 1)" if upper_open else "[0, inf)"
            raise ValueError(f"{name} values must lie in {rng}, got {v}")
    return value


def _flatten(value) -> list[float]:
    out: list[float] = []
    for v in value:
        if isinstance(v, list):
            out.extend(_flatten(v))
        else:
            out.append(float(v))
    return out


class FeatureConfig(FrozenConfig):
    """How input features are drawn."""

    structure: Structure = Field(
        "independent",
        description="independent | correlated sets | anticorrelated sets | exactly_k active",
    )
    values: Values = Field(
        "uniform", description="value of an active feature: uniform [0,1], signed [-1,1], boolean 1"
    )
    sparsity: PerInstanceFeature = Field(
        0.0,
        description="P(feature is zero), in [0, 1): a number, a list per instance, or "
        "[instances][features]; a set's sparsity is the mean over its members",
    )
    set_size: int = Field(2, ge=2, le=1024, description="features per (anti)correlated set")
    k: int = Field(1, ge=1, description="active features per sample for exactly_k")

    @field_validator("sparsity")
    @classmethod
    def _sparsity_range(cls, v):
        return _check_unit_interval(v, upper_open=True, name="sparsity")


def per_instance_feature(
    value: PerInstanceFeature, n_instances: int, n_features: int, name: str, vector_axis: str
) -> torch.Tensor:
    """Broadcast a scalar, a 1-D list (along `vector_axis`: 'instances' or 'features') or a
    [instances][features] nested list to a float tensor [instances, features]."""
    t = torch.as_tensor(value, dtype=torch.float32)
    if t.ndim == 0:
        return t.expand(n_instances, n_features).clone()
    if t.ndim == 1:
        if vector_axis == "instances":
            if len(t) != n_instances:
                raise SuperposeError(f"{name}: list has {len(t)} entries, expected {n_instances}")
            return t[:, None].expand(n_instances, n_features).clone()
        if len(t) != n_features:
            raise SuperposeError(f"{name}: list has {len(t)} entries, expected {n_features}")
        return t[None, :].expand(n_instances, n_features).clone()
    if t.shape == (1, n_features):
        return t.expand(n_instances, n_features).clone()
    if t.shape != (n_instances, n_features):
        raise SuperposeError(
            f"{name}: shape {tuple(t.shape)} does not match [instances={n_instances}, "
            f"features={n_features}]"
        )
    return t.clone()


def instances_implied(value: PerInstanceFeature, vector_axis: str) -> int | None:
    """Number of instances a sparsity/importance value fixes, if any."""
    if isinstance(value, list) and value:
        if isinstance(value[0], list):
            return len(value)
        if vector_axis == "instances":
            return len(value)
    return None


DENSE_COLUMN = 0.25  # columns at least this dense are cheaper to draw densely than by skipping


class FeatureDistribution:
    """Sampler for a FeatureConfig at given sizes, on a device."""

    def __init__(
        self,
        config: FeatureConfig,
        n_instances: int,
        n_features: int,
        device: torch.device | str = "cpu",
    ):
        self.config = config
        self.n_instances = n_instances
        self.n_features = n_features
        self.device = torch.device(device)
        sparsity = per_instance_feature(
            config.sparsity, n_instances, n_features, "sparsity", "instances"
        )
        self.density = (1.0 - sparsity).to(self.device)  # [instances, features]
        self.inv_density = 1.0 / self.density
        if config.structure in ("correlated", "anticorrelated"):
            if n_features % config.set_size:
                raise SuperposeError(
                    f"features: n_features={n_features} is not a multiple of "
                    f"set_size={config.set_size}"
                )
            groups = n_features // config.set_size
            self.set_density = self.density.view(n_instances, groups, config.set_size).mean(-1)
        if config.structure == "exactly_k" and config.k > n_features:
            raise SuperposeError(f"features: k={config.k} must be at most n_features={n_features}")

    def repeat(self, times: int) -> FeatureDistribution:
        """The same distribution with each instance repeated `times` times (instance i*times + r)."""
        new = object.__new__(FeatureDistribution)
        new.__dict__.update(self.__dict__)
        for cache in ("_groups", "_buffer"):  # sampler caches belong to the original sizes
            new.__dict__.pop(cache, None)
        new.n_instances = self.n_instances * times
        new.density = self.density.repeat_interleave(times, dim=0)
        new.inv_density = self.inv_density.repeat_interleave(times, dim=0)
        if hasattr(self, "set_density"):
            new.set_density = self.set_density.repeat_interleave(times, dim=0)
        return new

    def sample(
        self,
        batch: int,
        generator: torch.Generator | None = None,
        feature_major: bool = False,
        reuse: bool = False,
    ) -> torch.Tensor:
        """Draw a batch: [instances, batch, features].

        `feature_major` returns it as a transposed view of a contiguous [instances, features,
        batch] tensor (independent features only; otherwise ignored): the sampler writes that
        layout (each feature's rows in order), and the trainer computes in it throughout.
        `reuse` writes into a buffer kept by the distribution, overwriting the previous batch
        drawn with `reuse` (a fresh large tensor per step costs page faults)."""
        if self.config.structure != "independent":
            return self.sample_dense(batch, generator)
        n_cols, n_total = (
            self.n_instances * self.n_features,
            self.n_instances * batch * self.n_features,
        )
        # last slot: draws past the batch
        buf = self.__dict__.get("_buffer") if reuse else None
        if buf is None or buf.numel() != n_total + 1:
            buf = torch.zeros(n_total + 1, device=self.device)
            if reuse:
                self._buffer = buf
        else:
            buf.zero_()
        columns = buf[:n_total].view(n_cols, batch)
        indices, values = [], []
        for geometric, col, param, k, all_on in self._column_groups(batch):
            if not geometric:  # dense columns: one uniform per entry, u / p is the value if < 1
                u = torch.rand(len(col), batch, device=self.device, generator=generator)
                if not all_on:
                    u.mul_(param[:, None]).neg_()
                    u = torch.nn.functional.threshold_(u, -1.0, 0.0).neg_()  # 0 where u/p >= 1
                columns.index_copy_(0, col, u)
                continue
            base, start = col * batch, torch.zeros(len(col), device=self.device)
            while True:
                index, value, last = _draw_column_rows(
                    param, base, start, k, all_on, batch, n_total, self.config.values, generator
                )
                indices.append(index)
                values.append(value)
                more = last < batch - 1  # draws ran out inside the batch: continue these
                if not bool(more.any()):
                    break
                param, base, start, k = param[more], base[more], last[more] + 1, 8
        if indices:
            buf.index_put_((torch.cat(indices),), torch.cat(values))
        x = columns.view(self.n_instances, self.n_features, batch).transpose(1, 2)
        return x if feature_major else x.contiguous()

    def _column_groups(
        self, batch: int
    ) -> list[tuple[bool, torch.Tensor, torch.Tensor, int, bool]]:
        """How each (instance, feature) column is drawn at this batch size, in groups: (geometric,
        columns [C] as instance·features + feature, param [C], draws per column, all p = 1).
        Uniform-valued columns with density ≥ DENSE_COLUMN are drawn densely (param 1/p);
        the rest by geometric skipping (param log(1 − p)), grouped by the draws they need.
        Cached: it depends only on the batch size and the densities."""
        cache = self.__dict__.setdefault("_groups", {})
        if batch not in cache:
            density = self.density.reshape(-1)
            cols = torch.arange(density.numel(), device=density.device)
            groups = []
            dense = density >= DENSE_COLUMN if self.config.values == "uniform" else density < 0
            if bool(dense.any()):
                sel = cols[dense]
                on = bool((density[sel] == 1).all())
                groups.append((False, sel, 1.0 / density[sel], batch, on))
            log_q = torch.log1p(-density)
            need = _draws_needed(log_q, batch)
            bucket = (need.log2() * 2).ceil()  # ≤ √2 more draws than needed
            bucket[dense] = -1
            for key in bucket.unique().tolist():
                if key < 0:
                    continue
                sel = (bucket == key).nonzero().flatten()
                lq = log_q[sel]
                groups.append(
                    (True, cols[sel], lq, int(need[sel].max()), bool(torch.isinf(lq).all()))
                )
            cache[batch] = groups
        return cache[batch]

    def sample_dense(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw a batch with one dense uniform per entry (the plain path): [instances, batch,
        features]. Same distribution as `sample`, different random stream."""
        shape = (self.n_instances, batch, self.n_features)
        structure = self.config.structure
        dev = self.device
        if structure == "independent":
            # one draw: u < p is active and then u / p is uniform on [0, 1); all in place
            x = torch.rand(shape, device=dev, generator=generator)
            x.mul_(self.inv_density[:, None, :])
            off = x >= 1.0
            if self.config.values == "boolean":
                return (~off).to(torch.float32)
            if self.config.values == "signed":
                x.mul_(2.0).sub_(1.0)
            return x.masked_fill_(off, 0.0)
        if structure == "correlated":
            s = self.config.set_size
            g = self.n_features // s
            gate = torch.rand(self.n_instances, batch, g, 1, device=dev, generator=generator)
            active = (gate < self.set_density[:, None, :, None]).expand(-1, -1, -1, s)
            active = active.reshape(shape)
            values = torch.rand(shape, device=dev, generator=generator)
        elif structure == "anticorrelated":
            s = self.config.set_size
            g = self.n_features // s
            gate = torch.rand(self.n_instances, batch, g, device=dev, generator=generator)
            p = self.set_density[:, None, :]
            on = gate < p
            # given on, gate/p is uniform on [0,1): its integer part in units of 1/s picks the member
            member = (gate / p * s).long().clamp_(max=s - 1)
            onehot = torch.nn.functional.one_hot(member, s).bool() & on[..., None]
            active = onehot.reshape(shape)
            values = torch.rand(shape, device=dev, generator=generator)
        else:  # exactly_k
            scores = torch.rand(shape, device=dev, generator=generator)
            idx = scores.topk(self.config.k, dim=-1).indices
            active = torch.zeros(shape, dtype=torch.bool, device=dev).scatter_(-1, idx, True)
            values = torch.rand(shape, device=dev, generator=generator)
        if self.config.values == "boolean":
            return active.to(torch.float32)
        if self.config.values == "signed":
            values = values * 2.0 - 1.0
        return torch.where(active, values, torch.zeros((), device=dev))

    def marginal_density(self) -> torch.Tensor:
        """P(feature i is active) per instance: [instances, features]."""
        structure = self.config.structure
        if structure == "independent":
            return self.density.clone()
        if structure == "correlated":
            return self.set_density.repeat_interleave(self.config.set_size, dim=-1)
        if structure == "anticorrelated":
            s = self.config.set_size
            return (self.set_density / s).repeat_interleave(s, dim=-1)
        k = self.config.k
        return torch.full_like(self.density, k / self.n_features)


def _draws_needed(log_q: torch.Tensor, batch: int) -> torch.Tensor:
    """Geometric draws per column with log(1 − p) = log_q [C]: mean + 3 sd + 3 active rows, at
    most the batch (a column that needs more is continued): [C] float64."""
    p = -torch.expm1(log_q.double())
    mean = p * batch
    return (mean + 3.0 * (mean * (1.0 - p)).sqrt() + 3.0).ceil().clamp(max=batch)


def _draw_column_rows(
    log_q: torch.Tensor,
    base: torch.Tensor,
    start: torch.Tensor,
    k: int,
    dense: bool,
    batch: int,
    n_total: int,
    values: str,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw the next k active rows of each column and their values.

    Columns are independent Bernoulli(p) along the batch; the number of inactive rows before the
    next active one is geometric, ⌊log(1 − u) / log(1 − p)⌋ for u uniform on [0, 1) (exact by
    inversion; p = 1 gives 0, and `dense` columns skip the draw). log_q: [C] log(1 − p); base: [C]
    flat index of the column's row 0 in x (rows are consecutive); start: [C] first row still to
    draw (float). Returns
    (flat index [C·k], value [C·k], last drawn row [C]); rows past the batch get index n_total
    and value 0. A column whose last row is < batch − 1 is not finished: by memorylessness it
    continues exactly from there.
    """
    dev, n_cols = base.device, len(base)
    dtype = torch.float32 if (batch + 1) * (k + batch) < 2**24 else torch.float64
    if dense:
        rows = torch.arange(k, device=dev, dtype=dtype).expand(n_cols, k) + start[:, None]
    else:
        u = torch.rand(n_cols, k, device=dev, generator=generator, dtype=dtype)
        rows = torch.log1p(u.neg_()).div_(log_q[:, None]).clamp_(max=batch).floor_().add_(1.0)
        rows = rows.cumsum_(1).add_(start[:, None] - 1.0)
    last = rows[:, -1].to(start.dtype, copy=True)
    if values == "boolean":
        vals = torch.ones(n_cols, k, device=dev)
    else:
        vals = torch.rand(n_cols, k, device=dev, generator=generator)
        if values == "signed":
            vals.mul_(2.0).sub_(1.0)
    inside = (batch - rows).clamp_(0.0, 1.0)  # 1 for rows inside the batch, else 0
    vals.mul_(inside)
    flat = rows.clamp(max=batch - 1).long().add_(base[:, None] - n_total)
    flat.mul_(inside.long()).add_(n_total)
    return flat.view(-1), vals.view(-1), last


def power_law_density(n_features: int, alpha: float, expected_active: float = 1.0) -> torch.Tensor:
    """P(feature i is active) ∝ (i + 1)^(−α), scaled so that a sample has `expected_active` active
    features on average (Liu, Liu & Gore's frequencies p_i), capped at 1: [features] float64.
    As a FeatureConfig: `sparsity=[(1 - p).tolist()]` (one row, shared by every instance)."""
    if n_features < 1 or expected_active <= 0:
        raise SuperposeError(
            f"power-law density: n_features={n_features} must be >= 1 and "
            f"expected_active={expected_active} > 0"
        )
    p = torch.arange(1, n_features + 1, dtype=torch.float64).pow(-alpha)
    return (p * (expected_active / p.sum())).clamp(max=1.0)
