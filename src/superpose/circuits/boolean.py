"""Boolean computation in superposition (Hänni et al., REFERENCE §4): U-AND and chosen gates.

One ReLU layer h = ReLU(W·v + b) with d neurons, bias −(K−1), reading m boolean features that come
either in a basis (v = x) or in superposition (v = F x, F: [d0, m] random unit columns). A gate's value
is read as the mean of the neurons wired to all of its inputs. Readouts are computed only for the
pairs asked for, in blocks, so the m² all-pairs readout is never materialised.

Shapes: connectivity `conn: [neurons, features]` (bool), embedding `F: [d0, features]`, inputs
`x: [batch, features]` (0/1), hidden `h: [batch, neurons]`, pairs `[P, 2]` (long), readouts
`[batch, P]`. The batch (instance) axis is first.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field, model_validator

from ..base.config import FrozenConfig, validate
from ..base.device import make_generator, resolve_device
from ..base.errors import SuperposeError
from .verification import VerifyFields

Inputs = Literal["basis", "superposed"]
CASES = ("neither", "one", "both")  # index = number of the pair's inputs that are on


class BooleanWiresConfig(FrozenConfig):
    """What every boolean construction has: m boolean features (wires), at most s on, width d."""

    m: int = Field(64, ge=2, le=10_000_000, description="boolean features (wires) m")
    d: int = Field(1000, ge=1, le=10_000_000, description="neurons d")
    s: int = Field(3, ge=1, le=10_000, description="at most s features active (s ≤ m)")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")
    device: str = Field(
        "cpu",
        pattern=r"^(auto|cpu|cuda(:\d{1,3})?)$",
        description="device: auto, cpu, cuda, cuda:N",
    )

    @model_validator(mode="after")
    def _check_inputs(self) -> BooleanWiresConfig:
        if self.s > self.m:
            raise ValueError(f"s = {self.s} must be ≤ m = {self.m}")
        return self


class BooleanInputsConfig(BooleanWiresConfig):
    """What every boolean layer reads: m sparse boolean features, in a basis or in superposition."""

    inputs: Inputs = Field("basis", description="features in a basis or in superposition")
    d0: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="embedding dimension for superposed inputs (default d)",
    )

    @property
    def d0_value(self) -> int:
        return self.d0 if self.d0 is not None else self.d


class UAndConfig(BooleanInputsConfig, VerifyFields):
    """A U-AND layer: every pairwise AND of m sparse boolean features, linearly readable."""

    construction: Literal["uand"] = Field("uand", description="construction: uand")
    truth_pairs: int = Field(
        2000, ge=1, description="U-AND pairs listed in the ground truth (all if fewer exist)"
    )

    p: float | None = Field(
        None, gt=0, le=1, description="P(neuron wired to a feature) in (0, 1]; default from shared"
    )
    shared: float = Field(
        20.0, gt=0, description="target expected neurons per pair d·p² (used when p is not given)"
    )

    @model_validator(mode="after")
    def _check(self) -> UAndConfig:
        if self.p is None and self.shared > self.d:
            raise ValueError(f"shared = {self.shared} must be ≤ d = {self.d} (p = √(shared/d) ≤ 1)")
        return self

    @property
    def p_value(self) -> float:
        """The connection probability used: p, or √(shared/d)."""
        return self.p if self.p is not None else math.sqrt(self.shared / self.d)


class ChosenGatesConfig(BooleanInputsConfig, VerifyFields):
    """Chosen gates: each of a given list of K-input ANDs gets its own random set of k neurons."""

    construction: Literal["chosen_gates"] = Field(
        "chosen_gates", description="construction: chosen_gates"
    )
    n_gates: int = Field(
        200,
        ge=1,
        description="random gates drawn when built from the config alone (superpose build)",
    )
    d: int = Field(400, ge=1, le=10_000_000, description="neurons d")
    k: int = Field(8, ge=1, le=100_000, description="neurons per gate k (≤ d)")
    fan_in: int = Field(2, ge=1, le=64, description="inputs per gate K (bias −(K−1))")

    @model_validator(mode="after")
    def _check(self) -> ChosenGatesConfig:
        if self.k > self.d:
            raise ValueError(f"k = {self.k} must be ≤ d = {self.d}")
        if self.fan_in > self.m:
            raise ValueError(f"fan_in = {self.fan_in} must be ≤ m = {self.m}")
        return self


def make_config(cls: type[FrozenConfig], **fields: Any) -> Any:
    """Build a config from keyword fields, bad values → one-line SuperposeError naming the field."""
    return validate(cls, fields, source=cls.__name__)


def random_embedding(d0: int, m: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """m random unit vectors in d0 dimensions (near-orthogonal when d0 is large). F: [d0, m]."""
    F = torch.randn(d0, m, generator=gen, device=device)
    return F / F.norm(dim=0, keepdim=True)


# readout: CSR matmul below this fraction of served pair × neuron cells (its work ∝ served cells,
# a dense matmul's ∝ all cells at BLAS speed); at d = 2000, batch 64 the two tie up to 9 % served
SPARSE_BELOW = 1 / 8


def _served(both: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(row, col, counts) of the served cells of both: [P, neurons] bool, rows in turn.

    nonzero + bincount: several times faster than both.sum(1), which first widens to int64.
    """
    row, col = both.nonzero(as_tuple=True)
    return row, col, torch.bincount(row, minlength=len(both))


def _mean_rows(
    row: torch.Tensor, col: torch.Tensor, counts: torch.Tensor, dtype: torch.dtype, d: int
) -> torch.Tensor:
    """CSR [P, neurons] averaging matrix: 1/count at each served neuron of each pair (row)."""
    crow = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
    val = (1.0 / counts.clamp(min=1).to(dtype))[row]
    with warnings.catch_warnings():  # torch flags CSR as beta; matmul is all we use
        warnings.filterwarnings("ignore", message="Sparse", category=UserWarning)
        return torch.sparse_csr_tensor(crow, col, val, (len(counts), d))


@dataclass
class BooleanLayer:
    """One ReLU layer computing ANDs in superposition.

    conn: [neurons, features] bool, which inputs each neuron sums; bias = −(fan_in − 1);
    F: [d0, features] embedding or None (basis inputs); gate_neurons: [gates, k] neuron ids per
    chosen gate, or None for U-AND (where a pair's neurons are those wired to both).
    """

    conn: torch.Tensor
    bias: float
    F: torch.Tensor | None = None
    gates: torch.Tensor | None = None  # [gates, fan_in] long
    gate_neurons: torch.Tensor | None = None  # [gates, k] long

    @property
    def d(self) -> int:
        return self.conn.shape[0]

    @property
    def m(self) -> int:
        return self.conn.shape[1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Network input v: [batch, d_in] for boolean (or real) feature values x: [batch, m]."""
        x = x.to(self.conn.device, torch.float32)
        return x if self.F is None else x @ self.F.T

    def hidden_from_embedded(self, v: torch.Tensor) -> torch.Tensor:
        """h = ReLU(W v + b) with W = conn (basis) or conn·Fᵀ (superposed), never formed densely."""
        c = self.conn.float()
        u = v if self.F is None else v @ self.F  # [batch, m]: Fᵀv, each feature's noisy read
        return torch.relu(u @ c.T + self.bias)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """h: [batch, neurons] for inputs x: [batch, m]."""
        return self.hidden_from_embedded(self.embed(x))

    def hidden_active(self, active: torch.Tensor) -> torch.Tensor:
        """h: [batch, neurons] for inputs given as active feature ids [batch, s] (no dense x)."""
        active = active.to(self.conn.device)
        if self.F is None:
            pre = self.conn.T[active].float().sum(1)  # [batch, d]
            return torch.relu(pre + self.bias)
        return self.hidden_from_embedded(self.F.T[active].sum(1))

    def weights(self) -> torch.Tensor:
        """Dense W: [neurons, d_in] (d_in = m for basis inputs, d0 for superposed)."""
        c = self.conn.float()
        return c if self.F is None else c @ self.F.T

    def pair_masks(self, pairs: torch.Tensor) -> torch.Tensor:
        """[neurons, P] float: which neurons serve each requested U-AND pair."""
        return (self.conn[:, pairs[:, 0]] & self.conn[:, pairs[:, 1]]).float()

    def _pair_rows(self, ct: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """[P, neurons] bool: which neurons serve each pair, from ct = connᵀ (contiguous rows)."""
        return ct[pairs[:, 0]] & ct[pairs[:, 1]]

    def shared_counts(self, pairs: torch.Tensor, block: int = 4096) -> torch.Tensor:
        """Neurons serving each pair: [P] long."""
        pairs = pairs.to(self.conn.device)
        ct = self.conn.T.contiguous()
        return torch.cat(
            [
                _served(self._pair_rows(ct, pairs[i : i + block]))[2]
                for i in range(0, len(pairs), block)
            ]
        )

    def readout(
        self, h: torch.Tensor, pairs: torch.Tensor, block: int = 4096, sparse: bool | None = None
    ) -> torch.Tensor:
        """AND readouts [batch, P] for U-AND pairs [P, 2]: mean of the neurons wired to both.

        Computed in blocks of `block` pairs; a pair no neuron serves reads 0. Each block is a
        sparse (CSR) matmul when few neurons serve a pair (fewer than SPARSE_BELOW of the block's
        pair × neuron cells, e.g. d·p² ≈ 20 of thousands), else a dense one; `sparse` forces a path.
        """
        pairs = pairs.to(self.conn.device)
        ct = self.conn.T.contiguous()  # [m, d]: a pair's neurons are two ANDed contiguous rows
        hT = None
        outs = []
        for i in range(0, len(pairs), block):
            both = self._pair_rows(ct, pairs[i : i + block])  # [b, d] bool
            row, col, counts = _served(both)
            go_sparse = len(row) < SPARSE_BELOW * both.numel() if sparse is None else sparse
            if not go_sparse:
                outs.append((h @ both.T.float()) / counts.clamp(min=1))
                continue
            if hT is None:
                hT = h.T.contiguous()
            outs.append((_mean_rows(row, col, counts, h.dtype, self.d) @ hT).T)
        return torch.cat(outs, dim=1) if outs else h.new_zeros(h.shape[0], 0)

    def readout_per_input(self, h: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        """Readouts [batch, P] where every input row has its own pairs: pairs [batch, P, 2]."""
        pairs = pairs.to(self.conn.device)
        ct = self.conn.T  # [m, d]
        mask = (ct[pairs[..., 0]] & ct[pairs[..., 1]]).float()  # [batch, P, d]
        return torch.einsum("bpd,bd->bp", mask, h) / mask.sum(-1).clamp(min=1)

    def gate_readout(self, h: torch.Tensor, gate_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Chosen-gate readouts [batch, G]: mean of each gate's own k neurons."""
        if self.gate_neurons is None:
            raise SuperposeError("gate_readout needs a chosen-gates layer (build_chosen_gates)")
        gn = self.gate_neurons if gate_ids is None else self.gate_neurons[gate_ids]
        return h[:, gn].mean(-1)

    def readout_matrix(self, pairs: torch.Tensor | None = None) -> torch.Tensor:
        """Readout weights R: [outputs, neurons] (gates, or the requested U-AND pairs)."""
        if pairs is None:
            if self.gate_neurons is None:
                raise SuperposeError("readout_matrix of a U-AND layer needs the pairs to read")
            G, k = self.gate_neurons.shape
            R = torch.zeros(G, self.d, device=self.conn.device)
            R.scatter_(1, self.gate_neurons, 1.0 / k)
            return R
        mask = self.pair_masks(pairs.to(self.conn.device)).T
        return mask / mask.sum(1, keepdim=True).clamp(min=1)


def build_uand(cfg: UAndConfig) -> BooleanLayer:
    """U-AND: conn ~ Bernoulli(p) [d, m], bias −1, embedding F for superposed inputs."""
    from ..base.memory import check_memory

    device = resolve_device(cfg.device)
    superposed = cfg.d0_value * cfg.m if cfg.inputs == "superposed" else 0
    need = 4 * (3 * cfg.d * cfg.m + superposed)
    check_memory(need, "building this U-AND layer", "lower m or d", str(device))
    gen = make_generator(cfg.seed, device)
    conn = torch.rand(cfg.d, cfg.m, generator=gen, device=device) < cfg.p_value
    F = random_embedding(cfg.d0_value, cfg.m, gen, device) if cfg.inputs == "superposed" else None
    return BooleanLayer(conn=conn, bias=-1.0, F=F)


def random_gates(m: int, n_gates: int, fan_in: int, gen: torch.Generator) -> torch.Tensor:
    """n_gates distinct random K-subsets of range(m) (sorted rows): [gates, fan_in] long."""
    total = math.comb(m, fan_in)
    if n_gates > total:
        raise SuperposeError(f"n_gates = {n_gates} must be ≤ C(m, fan_in) = {total}")
    if 2 * n_gates > total:  # dense: enumerate and permute
        every = torch.combinations(torch.arange(m), fan_in)
        return every[torch.randperm(len(every), generator=gen)[:n_gates]]
    seen: set[tuple[int, ...]] = set()
    rows: list[tuple[int, ...]] = []
    while len(rows) < n_gates:
        draw = torch.randint(m, (2 * (n_gates - len(rows)) + 8, fan_in), generator=gen)
        for row in draw.sort(1).values.tolist():
            t = tuple(row)
            if len(set(t)) == fan_in and t not in seen:
                seen.add(t)
                rows.append(t)
                if len(rows) == n_gates:
                    break
    return torch.tensor(rows, dtype=torch.long).reshape(n_gates, fan_in)


def build_chosen_gates(cfg: ChosenGatesConfig, gates: torch.Tensor) -> BooleanLayer:
    """Chosen gates [G, K]: gate g gets k random neurons, each wired to the gate's K inputs.

    A neuron serving several gates sums the union of their inputs; bias −(K−1); readout = mean of the
    gate's k neurons (so an isolated gate reads exactly its AND).
    """
    gates = torch.as_tensor(gates, dtype=torch.long)
    if gates.ndim != 2 or gates.shape[1] != cfg.fan_in:
        raise SuperposeError(
            f"gates must have shape [G, fan_in={cfg.fan_in}], got {list(gates.shape)}"
        )
    if len(gates) and (gates.min() < 0 or gates.max() >= cfg.m):
        raise SuperposeError(
            f"gate inputs must lie in [0, m={cfg.m}), got {gates.min()}..{gates.max()}"
        )
    device = resolve_device(cfg.device)
    gen = make_generator(cfg.seed, device)
    G = len(gates)
    neurons = torch.rand(G, cfg.d, generator=gen, device=device).argsort(1)[:, : cfg.k]
    gates = gates.to(device)
    conn = torch.zeros(cfg.d, cfg.m, dtype=torch.bool, device=device)
    rows = neurons.repeat_interleave(cfg.fan_in, dim=1).reshape(-1)
    cols = gates.repeat(1, cfg.k).reshape(G, cfg.k, cfg.fan_in).reshape(-1)
    conn[rows, cols] = True
    F = random_embedding(cfg.d0_value, cfg.m, gen, device) if cfg.inputs == "superposed" else None
    return BooleanLayer(conn=conn, bias=-(cfg.fan_in - 1.0), F=F, gates=gates, gate_neurons=neurons)
