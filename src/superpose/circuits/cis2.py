"""CiS2: T small deep MLPs compressed into one large MLP of width D (REFERENCE §2).

Driver: `build_cis2(config)` = make circuits → allocate → per-layer positions → biases → verify.
Large layer l holds circuit neuron i of circuit t on the S neurons i·N + P_t^l (N = D/d).
Weights W^l = Σ_t E_t^l w_t^l U_t^{l−1} (l ≥ 2); layer 1 reads the circuits' inputs directly
(W¹ = Σ_t E_t¹ w_t¹, input x: [batch, T·d]), so layer 1 is exact when one circuit is on.
Two forward paths: `forward` (structured: gather-sum → batched d×d matmul → scatter-add as sparse
matmuls with T·d·S entries, never D×D) and
`dense_module()` (real nn.Linear weights). They agree to float tolerance (checked in `verify`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from ..base.config import FrozenConfig
from ..base.errors import SuperposeError
from .allocation import SCHEMES, Allocation, layer_positions, make_allocation
from .construction import Sample, SmallCircuitsNet, register_construction
from .small import SmallCircuits, make_circuits, sample_inputs

DENSE_MAX_ENTRIES = 200_000_000  # refuse dense weights above this many floats (0.8 GB)
DENSE_CHECK_MAX_FLOPS = 3e9  # verification builds the dense network only below this cost


class CiS2Config(FrozenConfig):
    construction: Literal["cis2"] = Field("cis2", description="construction: cis2")
    width: int = Field(
        1000, ge=2, le=10_000_000, description="large-network width D (divisible by d)"
    )
    circuit_width: int = Field(4, ge=3, le=1024, description="small-circuit width d")
    redundancy: int = Field(
        6, ge=2, le=64, description="embedding redundancy S (neurons per circuit neuron)"
    )
    circuits: int = Field(557, ge=1, le=10_000_000, description="number of circuits T")
    layers: int = Field(5, ge=1, le=64, description="layers L")
    max_active: int = Field(
        3, ge=1, le=1000, description="most circuits on at once (z) the network is built for"
    )
    circuit_kind: str = Field(
        "rotation",
        pattern="^(rotation|random)$",
        description="small circuits: rotation (d=4) or random",
    )
    allocation: str = Field(
        "prime",
        pattern="^(prime|affine|random)$",
        description="neuron allocation scheme: prime, affine or random",
    )
    unembedding: str = Field(
        "mean",
        pattern="^(mean|plain)$",
        description="U_t = E_tᵀ/S ('plain') or block-mean-corrected ('mean')",
    )
    max_load: float = Field(
        1.0, gt=0, le=100, description="largest allowed z·T·d²/D² (capacity regime)"
    )
    verify_batch: int = Field(
        64, ge=1, le=100_000, description="sampled inputs used to verify the built network"
    )
    verify_tol: float = Field(
        0.5,
        gt=0,
        description="largest allowed relative MSE of active circuits (z=1, last layer) in verification",
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")


@dataclass
class CiS2Network:
    """A built CiS2 network. positions: [L, T, S] (neuron inside each block), bias: [L, D]."""

    circuits: SmallCircuits
    positions: torch.Tensor
    bias: torch.Tensor
    width: int
    unembedding: str
    allocation: Allocation

    @property
    def d(self) -> int:
        return self.circuits.width

    @property
    def block(self) -> int:
        """N = D/d neurons per block."""
        return self.width // self.d

    @property
    def S(self) -> int:
        return int(self.positions.shape[-1])

    @property
    def T(self) -> int:
        return self.circuits.n_circuits

    @property
    def L(self) -> int:
        return self.circuits.n_layers

    def _rows(self) -> list[tuple[str, str, object]]:
        return [
            ("T", "circuits T", self.T),
            ("L", "layers L", self.L),
            ("D", "large width D", self.width),
            ("d", "circuit width d", self.d),
            ("N", "neurons per block N = D/d", self.block),
            ("S", "redundancy S (large neurons per circuit neuron)", self.S),
            (
                "allocation",
                "allocation (capacity)",
                f"{self.allocation.scheme} ({self.allocation.capacity})",
            ),
            ("unembedding", "unembedding", self.unembedding),
            ("device", "device", str(self.bias.device)),
        ]

    def __repr__(self) -> str:
        return "CiS2Network(" + ", ".join(f"{k}={v}" for k, _, v in self._rows()) + ")"

    def _repr_html_(self) -> str:
        from ..base.display import html_table

        rows = [(label, v) for _, label, v in self._rows()]
        return html_table(("", ""), rows, "CiS2 network (verified when built)")

    def to(self, device: torch.device | str) -> CiS2Network:
        return CiS2Network(
            self.circuits.to(device),
            self.positions.to(device),
            self.bias.to(device),
            self.width,
            self.unembedding,
            self.allocation,
        )

    # --- structured path ---------------------------------------------------------------------
    def hosts(self, layer: int) -> torch.Tensor:
        """Large neuron of each (circuit, neuron, copy): [T, d, S] (layer is 0-based)."""
        pos = self.positions[layer]
        offs = torch.arange(self.d, device=pos.device).view(1, -1, 1) * self.block
        return pos.unsqueeze(1) + offs

    def _sparse(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """CSR matrices of layer l: E [D, T·d] (scatter) and its transpose [T·d, D] (gather-sum)."""
        cache = self.__dict__.setdefault("_csr", {})
        if layer not in cache:
            rows = self.hosts(layer).reshape(-1)
            cols = torch.arange(self.T * self.d, device=rows.device).repeat_interleave(self.S)
            ones = torch.ones(rows.numel(), device=rows.device)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sparse CSR is marked beta
                E = torch.sparse_coo_tensor(
                    torch.stack([rows, cols]), ones, (self.width, self.T * self.d)
                )
                Et = torch.sparse_coo_tensor(
                    torch.stack([cols, rows]), ones, (self.T * self.d, self.width)
                )
                cache[layer] = (E.coalesce().to_sparse_csr(), Et.coalesce().to_sparse_csr())
        return cache[layer]

    # Internal layout is batch-last ([T·d, batch], [D, batch]) so that every step is one sparse or
    # batched matmul with no transposes: gather-sum (Eᵀ A) → d×d per circuit → scatter-add (E h).
    def _scatter_t(self, h_t: torch.Tensor, layer: int) -> torch.Tensor:
        E, _ = self._sparse(layer)
        return E @ h_t.reshape(self.T * self.d, -1)

    def _read_t(self, A_t: torch.Tensor, layer: int) -> torch.Tensor:
        _, Et = self._sparse(layer)
        r = (Et @ A_t).view(self.T, self.d, -1)
        S, N = self.S, self.block
        if self.unembedding == "mean":
            means = A_t.view(self.d, N, -1).mean(1)  # [d, batch]
            return (r - S * means) / (S - S * S / N)
        return r / S

    def _layer_t(self, r_t: torch.Tensor, layer: int) -> torch.Tensor:
        w = self.circuits.weights[:, layer].to(r_t)
        h = torch.bmm(w, r_t.view(self.T, self.d, -1))  # [T, d, batch]
        pre = self._scatter_t(h, layer) + self.bias[layer].to(r_t).unsqueeze(1)
        return torch.relu(pre)

    def scatter(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """Σ_t E_t^l h_t. h: [batch, T, d] → [batch, D] (layer is 0-based)."""
        return self._scatter_t(h.permute(1, 2, 0), layer).T

    def read(self, A: torch.Tensor, layer: int) -> torch.Tensor:
        """U_t^l A for every circuit. A: [batch, D] → [batch, T, d] (layer is 0-based)."""
        return self._read_t(A.T.contiguous(), layer).permute(2, 0, 1)

    def layer(self, r: torch.Tensor, layer: int) -> torch.Tensor:
        """Large activations of layer l from circuit-space inputs r: [batch, T, d] → [batch, D]."""
        return self._layer_t(r.permute(1, 2, 0).contiguous(), layer).T

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Structured forward. x: [batch, T, d] circuit inputs → L × [batch, D] large activations."""
        acts, r_t = [], x.permute(1, 2, 0).contiguous()
        for k in range(self.L):
            A_t = self._layer_t(r_t, k)
            acts.append(A_t.T)
            if k + 1 < self.L:
                r_t = self._read_t(A_t, k)
        return acts

    def readouts(self, acts: list[torch.Tensor]) -> list[torch.Tensor]:
        """Linear read-off of every circuit at every layer: L × [batch, T, d]."""
        return [self.read(A, k) for k, A in enumerate(acts)]

    # --- dense path --------------------------------------------------------------------------
    def embedding(self, layer: int) -> torch.Tensor:
        """E^l: [D, T, d] 0/1 (dense; moderate sizes only)."""
        self._check_dense()
        E = torch.zeros(self.d, self.block, self.T, self.d)
        pos = self.positions[layer].cpu()
        t = torch.arange(self.T).unsqueeze(1).expand_as(pos)
        for i in range(self.d):
            E[i, pos, t, i] = 1.0
        return E.reshape(self.width, self.T, self.d)

    def unembedding_matrix(self, layer: int) -> torch.Tensor:
        """U^l: [T, d, D] with U_t E_t = I."""
        E = self.embedding(layer).permute(1, 2, 0)  # [T, d, D]
        S, N = self.S, self.block
        if self.unembedding == "plain":
            return E / S
        blocks = torch.zeros(self.d, self.width)
        for i in range(self.d):
            blocks[i, i * N : (i + 1) * N] = 1.0
        return (E - (S / N) * blocks) / (S - S * S / N)

    def dense_weights(self) -> list[torch.Tensor]:
        """[W¹: [D, T·d], W²…W^L: [D, D]] — the real weights of the large network."""
        w = self.circuits.weights.cpu()
        E1 = self.embedding(0)
        Ws = [torch.einsum("nti,tij->ntj", E1, w[:, 0]).reshape(self.width, -1)]
        for k in range(1, self.L):
            G = torch.einsum("tij,tjm->tim", w[:, k], self.unembedding_matrix(k - 1))
            Ws.append(self.embedding(k).reshape(self.width, -1) @ G.reshape(-1, self.width))
        return Ws

    def dense_module(self) -> nn.Sequential:
        """The large network as nn.Sequential(Linear, ReLU, …); input x.reshape(batch, T·d)."""
        mods: list[nn.Module] = []
        for k, W in enumerate(self.dense_weights()):
            lin = nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                lin.weight.copy_(W)
                lin.bias.copy_(self.bias[k].cpu())
            mods += [lin, nn.ReLU()]
        return nn.Sequential(*mods)

    def _check_dense(self) -> None:
        if self.width * max(self.width, self.T * self.d) > DENSE_MAX_ENTRIES:
            raise SuperposeError(
                f"dense weights for D = {self.width}, T·d = {self.T * self.d} exceed {DENSE_MAX_ENTRIES:.0e} entries; use the structured forward"
            )

    def dense_fits(self) -> bool:
        return self.width * max(self.width, self.T * self.d) <= DENSE_MAX_ENTRIES


def dense_forward(module: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Activations after every ReLU of a dense module. x: [batch, T, d] → L × [batch, D]."""
    acts, a = [], x.reshape(x.shape[0], -1)
    for mod in module:
        with torch.no_grad():
            a = mod(a)
        if isinstance(mod, nn.ReLU):
            acts.append(a)
    return acts


def block_bias(circuits: SmallCircuits, positions: torch.Tensor, n_block: int) -> torch.Tensor:
    """B^l: [L, D], each large neuron gets the mean bias of the circuit neurons it hosts (0 if none).

    Exact for the generated circuits (they share biases per neuron index); for circuits whose biases
    differ, the mean is the best shared value and verification measures the cost.
    """
    _, L, d = circuits.weights.shape[:3]
    out = torch.zeros(L, d, n_block)
    for k in range(L):
        idx = positions[k].reshape(-1)
        for i in range(d):
            tot = torch.zeros(n_block).index_add_(
                0, idx, circuits.biases[:, k, i].cpu().repeat_interleave(positions.shape[-1])
            )
            cnt = torch.bincount(idx, minlength=n_block).float()
            out[k, i] = tot / cnt.clamp_min(1)
    return out.reshape(L, d * n_block)


def check_regime(cfg: CiS2Config) -> None:
    """Raise naming the limit hit when the requested network is outside the construction's regime."""
    D, d, S, T, z = cfg.width, cfg.circuit_width, cfg.redundancy, cfg.circuits, cfg.max_active
    if D % d:
        raise SuperposeError(f"width D = {D} must be divisible by circuit_width d = {d}")
    if D // d <= S * (S - 1):
        raise SuperposeError(f"redundancy S = {S} too large for D/d = {D // d} (need S(S−1) < D/d)")
    if z > T:
        raise SuperposeError(f"max_active z = {z} exceeds circuits T = {T}")
    load = z * T * d * d / D**2
    if load > cfg.max_load:
        raise SuperposeError(
            f"capacity: z·T·d²/D² = {load:.3g} exceeds max_load = {cfg.max_load:g} (T ≲ D²/(d²z) = {D**2 // (d * d * z)})"
        )


def build_cis2(
    cfg: CiS2Config,
    circuits: SmallCircuits | None = None,
    allocation: Allocation | None = None,
    verify: bool = True,
) -> CiS2Network:
    """Build (and by default verify) a CiS2 network for cfg; pass circuits to embed your own."""
    from ..base.memory import check_memory

    check_regime(cfg)
    T, L, d, D = cfg.circuits, cfg.layers, cfg.circuit_width, cfg.width
    dense = 4 * L * D * max(D, T * d) if D * max(D, T * d) <= DENSE_MAX_ENTRIES else 0
    need = (
        8 * L * T * cfg.redundancy
        + 4 * T * L * d * (d + 1)
        + 12 * cfg.verify_batch * (D + T * d) * L
    )
    check_memory(need + dense, "building this CiS2 network", "lower circuits, width or layers")
    d, N = cfg.circuit_width, cfg.width // cfg.circuit_width
    if circuits is None:
        circuits = make_circuits(cfg.circuit_kind, cfg.circuits, cfg.layers, d, cfg.seed)
    if circuits.weights.shape[:3] != (cfg.circuits, cfg.layers, d):
        raise SuperposeError(
            f"circuits have shape [T, L, d] = {list(circuits.weights.shape[:3])}, config says {[cfg.circuits, cfg.layers, d]}"
        )
    if allocation is None:
        allocation = make_allocation(
            cfg.allocation, N, cfg.redundancy, seed=cfg.seed, target=cfg.circuits
        )
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    positions = layer_positions(allocation, cfg.circuits, cfg.layers, gen)
    net = CiS2Network(
        circuits,
        positions,
        block_bias(circuits, positions, N),
        cfg.width,
        cfg.unembedding,
        allocation,
    )
    if verify:
        verify_network(net, cfg.verify_batch, cfg.verify_tol, seed=cfg.seed + 2)
    return net


def verify_network(net: CiS2Network, batch: int, tol: float, seed: int = 0) -> dict[str, float]:
    """Check a built network against its exact small circuits on sampled inputs with one circuit on.

    Checks: layer 1 exact (z = 1); last-layer relative MSE of the active circuit ≤ tol; the dense
    network agrees with the structured path (when dense fits). Raises SuperposeError naming the check.
    """
    gen = torch.Generator().manual_seed(seed)
    x, mask = sample_inputs(net.circuits, batch, 1, gen)
    exact = net.circuits.forward(x)
    acts = net.forward(x)
    reads = net.readouts(acts)
    scale = exact[0][mask].pow(2).mean().clamp_min(1e-12)
    err1 = float((reads[0][mask] - exact[0][mask]).abs().max())
    if err1 > 1e-4 * float(scale.sqrt()) + 1e-5:
        raise SuperposeError(
            f"verification: layer-1 readout of the active circuit is off by {err1:.3g} (must be exact when one circuit is on)"
        )
    rel = float(
        (reads[-1][mask] - exact[-1][mask]).pow(2).mean()
        / exact[-1][mask].pow(2).mean().clamp_min(1e-12)
    )
    if rel > tol:
        raise SuperposeError(
            f"verification: active-circuit relative MSE {rel:.3g} at layer {net.L} exceeds verify_tol = {tol:g} (too many circuits or too small S for this D)"
        )
    report = {"layer1_max_abs_error": err1, "last_layer_relative_mse": rel}
    if net.dense_fits() and net.width**2 * net.T * net.d <= DENSE_CHECK_MAX_FLOPS:
        dense = dense_forward(net.dense_module(), x)
        gap = max(float((a - b).abs().max()) for a, b in zip(acts, dense, strict=True))
        if gap > 1e-3:
            raise SuperposeError(f"verification: dense and structured forward differ by {gap:.3g}")
        report["dense_structured_max_gap"] = gap
    return report


class CiS2(SmallCircuitsNet):
    """A built, verified CiS2 network behind the construction interface (x: [batch, T, d])."""

    name = "cis2"

    @property
    def max_active(self) -> int:
        return self.config.max_active

    def sample(self, batch: int, active: int, generator: torch.Generator) -> Sample:
        return Sample(*sample_inputs(self.net.circuits, batch, active, generator))

    def ground_truth(self) -> dict[str, Any]:
        return {**ground_truth(self.net), "dense_weights_saved": self.net.dense_fits()}

    def verify(self) -> dict[str, float]:
        cfg = self.config
        return verify_network(self.net, cfg.verify_batch, cfg.verify_tol, seed=cfg.seed + 2)

    def dense_module(self) -> nn.Module:
        return self.net.dense_module()

    def tensors(self) -> dict[str, torch.Tensor]:
        net = self.net
        tensors = {
            "circuit_weights": net.circuits.weights,
            "circuit_biases": net.circuits.biases,
            "positions": net.positions,
        }
        for k in range(net.L):
            tensors[f"layer{k + 1}.bias"] = net.bias[k]
        if net.dense_fits():
            for k, W in enumerate(net.dense_weights()):
                tensors[f"layer{k + 1}.weight"] = W
        return tensors

    @classmethod
    def from_tensors(cls, config: CiS2Config, tensors: dict[str, torch.Tensor]) -> CiS2:
        circuits = SmallCircuits(
            tensors["circuit_weights"], tensors["circuit_biases"], config.circuit_kind
        )
        N = config.width // config.circuit_width
        allocation = make_allocation(
            config.allocation, N, config.redundancy, seed=config.seed, target=config.circuits
        )
        bias = torch.stack([tensors[f"layer{k + 1}.bias"] for k in range(config.layers)])
        net = CiS2Network(
            circuits, tensors["positions"], bias, config.width, config.unembedding, allocation
        )
        return cls(config, net)

    def measure(self, batch: int) -> dict[str, Any]:
        """Per-layer errors for z = 1 … max_active (errors.json)."""
        from .errors import run_profile

        cfg = self.config
        return {
            f"z={z}": run_profile(self.net, z, batch, cfg.seed + 10 + z).to_dict()
            for z in range(1, cfg.max_active + 1)
        }

    def summary(self, measured: dict[str, Any]) -> str:
        cfg, net = self.config, self.net
        last = {z: f"{e['active']['total'][-1]:.4g}" for z, e in measured.items()}
        return (
            f"built CiS2: D={cfg.width}, T={cfg.circuits}, L={cfg.layers} "
            f"({net.allocation.scheme} allocation, capacity {net.allocation.capacity}); "
            f"last-layer active MSE {last}"
        )


def ground_truth(net: CiS2Network) -> dict[str, Any]:
    """Which large neurons host which circuit neuron, per layer: layers[l][t][i] = [S neuron ids]."""
    N = net.block
    layers = []
    for k in range(net.L):
        pos = net.positions[k].cpu()
        hosts = [[[i * N + int(p) for p in pos[t]] for i in range(net.d)] for t in range(net.T)]
        layers.append({"layer": k + 1, "hosts": hosts})
    return {
        "width": net.width,
        "circuit_width": net.d,
        "block": N,
        "redundancy": net.S,
        "circuits": net.T,
        "unembedding": net.unembedding,
        "allocation": {
            "scheme": net.allocation.scheme,
            "capacity": net.allocation.capacity,
            "balance": net.allocation.balance(),
        },
        "input": "layer 1 reads x: [batch, T·d] (circuit t's input at t·d … t·d+d−1)",
        "layers": layers,
    }


register_construction("cis2", CiS2Config, lambda cfg: CiS2(cfg, build_cis2(cfg)))

__all__ = [
    "SCHEMES",
    "CiS2",
    "CiS2Config",
    "CiS2Network",
    "build_cis2",
    "dense_forward",
    "ground_truth",
    "verify_network",
]
