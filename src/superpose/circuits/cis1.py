"""CiS1 (seed 000): T small residual networks compressed into one large residual network.

Small circuit t: r^l = r^{l−1} + W_out,t^l ReLU(W_in,t^l r^{l−1} + b^l), residual width d, m neurons.
Large network: residual width D, M neurons per layer. Random embeddings E_t (D×d, orthonormal
columns); distributing matrices V_t: the M neurons form M/m sets of m, each connected to circuit t
with probability p = m·log M / M through a random m×m permutation. W_in = Σ_t V_t W_in,t E_tᵀ,
W_out = Σ_t E_t W_out,t V_tᵀ / |S_t|. Readout r_t = E_tᵀ R. Kept structured (never D×M dense).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import Field
from torch import nn

from ..base.errors import SuperposeError
from .construction import Sample, SmallCircuitsNet, register_construction
from .small import SmallCircuits, sample_inputs
from .verification import MIN_R2, Failures, VerifyFields, marking, r2, settle, worst

DENSE_CHECK_MAX_WORK = 20_000_000  # the dense cross-check runs when layers·copies·m·D ≤ this


class CiS1Config(VerifyFields):
    construction: Literal["cis1"] = Field("cis1", description="construction: cis1")
    width: int = Field(1000, ge=2, le=1_000_000, description="large residual width D")
    neurons: int = Field(
        1000, ge=2, le=1_000_000, description="large neurons per layer M (divisible by m)"
    )
    circuit_width: int = Field(4, ge=1, le=256, description="small residual width d")
    circuit_neurons: int = Field(4, ge=1, le=256, description="small neurons per layer m")
    circuits: int = Field(557, ge=1, le=1_000_000, description="number of circuits T")
    layers: int = Field(5, ge=1, le=64, description="layers L")
    margin: float = Field(
        0.3, gt=0, le=10, description="negative bias of circuit neurons (noise robustness)"
    )
    out_scale: float = Field(
        0.5, gt=0, le=10, description="scale of the circuits' write-out weights"
    )
    permute: bool = Field(
        True,
        description="place each circuit's m neurons in a random order within a neuron set (the "
        "seed's permutation); false keeps the order, so a large neuron hosts one role of every "
        "circuit and one shared bias fits circuits whose biases differ by role",
    )
    max_active: int = Field(
        2,
        ge=1,
        le=1000,
        description="most circuits on at once the network is verified for (every z ≤ max_active)",
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")


@dataclass(frozen=True)
class ResidualCircuits:
    """w_in: [T, L, m, d], bias: [T, L, m] (≤ 0), w_out: [T, L, d, m]."""

    w_in: torch.Tensor
    bias: torch.Tensor
    w_out: torch.Tensor

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Exact residual streams. x: [batch, T, d] → L × [batch, T, d]."""
        out, r = [], x
        for k in range(self.w_in.shape[1]):
            h = torch.relu(torch.einsum("tmd,btd->btm", self.w_in[:, k], r) + self.bias[:, k])
            r = r + torch.einsum("tdm,btm->btd", self.w_out[:, k], h)
            out.append(r)
        return out


def residual_form(mlp: SmallCircuits) -> ResidualCircuits:
    """The same small MLPs a^l = ReLU(W a^{l−1} + b) as residual circuits of m = 2d neurons:
    h = [ReLU(W r + b), ReLU(r)], W_out = [I, −I], so r^l = a^l exactly whenever r^{l−1} = a^{l−1}
    ≥ 0 (activations after a ReLU; the MLPs' inputs are nonnegative). Lets CiS1 and CiS2 carry the
    very same circuits."""
    T, L, d, _ = mlp.weights.shape
    eye = torch.eye(d).expand(T, L, d, d)
    w_in = torch.cat([mlp.weights, eye], 2)  # [T, L, 2d, d]
    bias = torch.cat([mlp.biases, torch.zeros(T, L, d)], 2)
    return ResidualCircuits(w_in, bias, torch.cat([eye, -eye], 3))


def random_residual_circuits(cfg: CiS1Config) -> ResidualCircuits:
    gen = torch.Generator().manual_seed(cfg.seed)
    T, L, d, m = cfg.circuits, cfg.layers, cfg.circuit_width, cfg.circuit_neurons
    w_in = torch.randn(T, L, m, d, generator=gen) / math.sqrt(d)
    w_out = torch.randn(T, L, d, m, generator=gen) * cfg.out_scale / math.sqrt(m)
    return ResidualCircuits(w_in, torch.full((T, L, m), -cfg.margin), w_out)


@dataclass
class CiS1Network:
    """embed: [T, D, d]; per layer connections (circuit [C], set [C], perm [C, m]) and |S_t|: [T]."""

    circuits: ResidualCircuits
    embed: torch.Tensor
    conn_circuit: list[torch.Tensor]
    conn_neurons: list[torch.Tensor]  # [C, m] large-neuron index of each circuit neuron copy
    copies: list[torch.Tensor]
    neurons: int
    verification: dict | None = None  # the strict verification's report (verify_cis1)
    mlp: SmallCircuits | None = None  # the small MLPs carried in residual form, if any

    def sample(
        self, batch: int, active: int, gen: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs with `active` circuits on: the MLPs' own inputs when it carries MLPs, else
        unit-norm random residual inputs. x: [batch, T, d], mask: [batch, T]."""
        if self.mlp is not None:
            return sample_inputs(self.mlp, batch, active, gen)
        T, _, d = self.embed.shape
        return sample_residual_inputs(T, d, batch, active, gen)

    @property
    def verified(self) -> bool:
        return bool(self.verification and self.verification.get("passed"))

    @property
    def flat_embed(self) -> torch.Tensor:
        """(E_1 … E_T): [D, T·d] (one matmul embeds or reads every circuit)."""
        return self.embed.permute(1, 0, 2).reshape(self.embed.shape[1], -1)

    def embed_input(self, x: torch.Tensor) -> torch.Tensor:
        """R⁰ = Σ_t E_t x_t. x: [batch, T, d] → [batch, D]."""
        return x.reshape(len(x), -1) @ self.flat_embed.T

    def read(self, R: torch.Tensor) -> torch.Tensor:
        """r_t = E_tᵀ R: [batch, D] → [batch, T, d]."""
        return (R @ self.flat_embed).reshape(len(R), *self.embed.shape[::2])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Large residual streams after each layer: L × [batch, D]."""
        E = self.flat_embed
        R, out = x.reshape(len(x), -1) @ E.T, []
        b = x.shape[0]
        for k in range(self.circuits.w_in.shape[1]):
            r = (R @ E).reshape(b, *self.embed.shape[::2])
            h = torch.einsum("tmd,btd->btm", self.circuits.w_in[:, k], r)  # [b, T, m]
            ct, cn = self.conn_circuit[k], self.conn_neurons[k]
            pre = torch.zeros(b, self.neurons).index_add_(
                1, cn.reshape(-1), h[:, ct].reshape(b, -1)
            )
            # each large neuron gets the mean bias of the circuit neurons it hosts
            idx = cn.reshape(-1)
            tot = torch.zeros(self.neurons).index_add_(
                0, idx, self.circuits.bias[ct, k].reshape(-1)
            )
            bias = tot / torch.bincount(idx, minlength=self.neurons).clamp_min(1)
            A = torch.relu(pre + bias)
            got = A[:, cn]  # [b, C, m]
            hsum = torch.zeros(b, r.shape[1], cn.shape[1]).index_add_(1, ct, got) / self.copies[
                k
            ].view(1, -1, 1)
            update = torch.einsum("tdm,btm->btd", self.circuits.w_out[:, k], hsum)
            R = R + update.reshape(b, -1) @ E.T
            out.append(R)
        return out

    def readouts(self, streams: list[torch.Tensor]) -> list[torch.Tensor]:
        return [self.read(R) for R in streams]


def build_cis1(cfg: CiS1Config, mlp: SmallCircuits | None = None) -> CiS1Network:
    """Random embeddings and distributing matrices per seed 000, then the strict verification
    (`verify_cis1`): a failing network is refused with one line unless cfg.allow_unverified.
    mlp: small MLPs (e.g. a CiS2 network's circuits) to carry in residual form (`residual_form`,
    circuit_neurons = 2·circuit_width) instead of random residual circuits."""
    T, D, M, m, d = cfg.circuits, cfg.width, cfg.neurons, cfg.circuit_neurons, cfg.circuit_width
    if M % m:
        raise SuperposeError(f"neurons M = {M} must be divisible by circuit_neurons m = {m}")
    if d > D:
        raise SuperposeError(f"circuit_width d = {d} exceeds width D = {D}")
    if cfg.max_active > T:
        raise SuperposeError(f"max_active z = {cfg.max_active} exceeds circuits T = {T}")
    from ..base.memory import check_memory

    # the embeddings [T, D, d] and their QR, then the verification's streams: measured peaks
    # 8–14 bytes per T·D·d (session 27)
    check_memory(16 * T * D * d, "building this CiS1 network", "lower circuits or width")
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    q, _ = torch.linalg.qr(torch.randn(T, D, d, generator=gen))
    sets = M // m
    p = min(1.0, m * math.log(M) / M)
    if mlp is not None and (mlp.n_circuits, mlp.width, 2 * mlp.width) != (T, d, m):
        raise SuperposeError(
            f"carrying MLPs of T = {mlp.n_circuits}, width {mlp.width} needs circuits = T, "
            f"circuit_width = width and circuit_neurons = 2·width (got {T}, {d}, {m})"
        )
    circuits = random_residual_circuits(cfg) if mlp is None else residual_form(mlp)
    conn_c, conn_n, copies = [], [], []
    for _ in range(cfg.layers):
        link = torch.rand(T, sets, generator=gen) < p
        none = ~link.any(1)
        link[none, torch.randint(sets, (int(none.sum()),), generator=gen)] = True
        ct, cs = link.nonzero(as_tuple=True)
        perm = torch.rand(ct.numel(), m, generator=gen).argsort(1)
        if not cfg.permute:
            perm = torch.arange(m).expand(ct.numel(), m)
        conn_c.append(ct)
        conn_n.append(cs.unsqueeze(1) * m + perm)
        copies.append(link.sum(1).float())
    net = CiS1Network(circuits, q, conn_c, conn_n, copies, M, mlp=mlp)
    net.verification = settle("CiS1", verify_cis1(net, cfg), cfg.allow_unverified)
    return net


MAX_INACTIVE = 1 - MIN_R2  # inactive readouts' MSE over the active payload's variance: at most
# the error R² ≥ 0.9 allows an active circuit (ours, from the R² law)


def verify_cis1(net: CiS1Network, cfg: CiS1Config) -> dict[str, Any]:
    """Strict verification: for every z = 1 … max_active and every layer, the decoded residual
    streams of the active circuits have R² ≥ 0.9 against their own variance (issue 12), the
    inactive circuits' readouts (exactly 0) have MSE ≤ 0.1 × that variance, and the dense network
    equals the structured one. Returns the report ("failure": the first failed check, one line)."""
    fail, per_z = Failures(), {}
    fix = "lower `circuits` or `max_active`, or raise `width` and `neurons`"
    for z in range(1, cfg.max_active + 1):
        gen = torch.Generator().manual_seed(cfg.seed + 2 + z)
        x, mask = net.sample(cfg.verify_batch, z, gen)
        rows: dict[str, list[float]] = {"r2": [], "payload_var": [], "inactive_mse_over_var": []}
        for k, (read, exact) in enumerate(
            zip(net.readouts(net.forward(x)), net.circuits.forward(x), strict=True)
        ):
            var = float(exact[mask].var(0).mean())
            rows["r2"].append(r2(read[mask], exact[mask]))
            rows["payload_var"].append(var)
            inactive = float((read - exact)[~mask].pow(2).mean()) / var if (~mask).any() else 0.0
            rows["inactive_mse_over_var"].append(inactive)
            where = f"at layer {k + 1} with z={z} active"
            fail.below(rows["r2"][-1], MIN_R2, "decoded R² of active circuits", where, fix)
            fail.above(
                inactive, MAX_INACTIVE, "inactive readout MSE / payload variance", where, fix
            )
        per_z[z] = rows
    report = fail.report(
        per_z,
        {
            "decoded_r2_min": MIN_R2,
            "inactive_mse_over_payload_var_max": MAX_INACTIVE,
            "sources": "R² ≥ 0.9: issue 12 (as CiS2); inactive ≤ 1 − 0.9 of the payload variance: "
            "ours, the error R² ≥ 0.9 allows",
        },
    )
    work = sum(c.numel() for c in net.conn_neurons) * cfg.width
    if work <= DENSE_CHECK_MAX_WORK:
        x, _ = net.sample(4, 1, torch.Generator().manual_seed(cfg.seed))
        with torch.no_grad():
            dense = CiS1(cfg, net).dense_module()(x)
        gap = max(float((a - b).abs().max()) for a, b in zip(dense, net.forward(x), strict=True))
        report["dense_structured_max_gap"] = gap
        if gap > 1e-3:
            report["failures"].append(f"dense and structured forward differ by {gap:.3g}")
            report["failure"], report["passed"] = report["failures"][0], False
    return report


def sample_residual_inputs(
    T: int, d: int, batch: int, active: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """x: [batch, T, d] with `active` circuits given unit-norm random inputs; mask: [batch, T]."""
    idx = torch.rand(batch, T, generator=gen).argsort(1)[:, :active]
    mask = torch.zeros(batch, T, dtype=torch.bool).scatter_(1, idx, True)
    v = torch.randn(batch, active, d, generator=gen)
    v = v / v.norm(dim=-1, keepdim=True)
    x = torch.zeros(batch, T, d).scatter_(1, idx.unsqueeze(-1).expand(-1, -1, d), v)
    return x, mask


class _DenseResidual(nn.Module):
    """R ← R + W_out ReLU(W_in R + b) per layer, from R⁰ = W_embed x (x: [batch, T·d])."""

    def __init__(self, embed: torch.Tensor, layers: list[tuple[torch.Tensor, ...]]) -> None:
        super().__init__()
        self.embed = nn.Linear(embed.shape[1], embed.shape[0], bias=False)
        self.ins = nn.ModuleList(nn.Linear(w.shape[1], w.shape[0]) for w, _, _ in layers)
        self.outs = nn.ModuleList(nn.Linear(w.shape[1], w.shape[0], False) for _, _, w in layers)
        with torch.no_grad():
            self.embed.weight.copy_(embed)
            for lin_in, lin_out, (w_in, b, w_out) in zip(self.ins, self.outs, layers, strict=True):
                lin_in.weight.copy_(w_in)
                lin_in.bias.copy_(b)
                lin_out.weight.copy_(w_out)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        R, out = self.embed(x.reshape(x.shape[0], -1)), []
        for lin_in, lin_out in zip(self.ins, self.outs, strict=True):
            R = R + lin_out(torch.relu(lin_in(R)))
            out.append(R)
        return out


class CiS1(SmallCircuitsNet):
    """A built CiS1 network behind the construction interface (x: [batch, T, d]); verified unless
    built with allow_unverified (then `net.verified` is False and ground_truth.json says why)."""

    name = "cis1"

    @property
    def max_active(self) -> int:
        return self.config.max_active

    def sample(self, batch: int, active: int, generator: torch.Generator) -> Sample:
        return Sample(*self.net.sample(batch, active, generator))

    def ground_truth(self) -> dict[str, Any]:
        """Per layer, the large neurons hosting each circuit's neurons (one list per copy)."""
        layers = []
        for k, (ct, cn) in enumerate(
            zip(self.net.conn_circuit, self.net.conn_neurons, strict=True)
        ):
            hosts: list[list[list[int]]] = [[] for _ in range(self.config.circuits)]
            for t, neurons in zip(ct.tolist(), cn.tolist(), strict=True):
                hosts[t].append(neurons)
            layers.append({"layer": k + 1, "hosts": hosts})
        return {
            **marking(self.net.verification),
            "input": "residual R⁰ = Σ_t E_t x_t with E_t = embed[t]: [D, d] (x: [batch, T, d])",
            "layers": layers,
        }

    def verify(self) -> dict[str, float]:
        """The strict verification (`verify_cis1`); raises one line unless it passes.
        Returns its worst figures over z and layers (the full report: net.verification)."""
        self.net.verification = verify_cis1(self.net, self.config)
        settle("CiS1", self.net.verification, allow_unverified=False)
        return worst(self.net.verification, {"r2": "min", "inactive_mse_over_var": "max"})

    def dense_module(self) -> nn.Module:
        """Embedding, then per layer W_in [M, D], mean bias [M], W_out [D, M] (copies averaged)."""
        net, c = self.net, self.net.circuits
        embed = net.flat_embed
        layers = []
        for k, (ct, cn) in enumerate(zip(net.conn_circuit, net.conn_neurons, strict=True)):
            idx = cn.reshape(-1)
            rows = torch.einsum("cmd,cDd->cmD", c.w_in[ct, k], net.embed[ct]).reshape(len(idx), -1)
            w_in = torch.zeros(net.neurons, rows.shape[1]).index_add_(0, idx, rows)
            tot = torch.zeros(net.neurons).index_add_(0, idx, c.bias[ct, k].reshape(-1))
            bias = tot / torch.bincount(idx, minlength=net.neurons).clamp_min(1)
            cols = torch.einsum("cDd,cdm->cmD", net.embed[ct], c.w_out[ct, k])
            cols = cols / net.copies[k][ct].view(-1, 1, 1)  # [C, m, D]: W_outᵀ rows
            w_out_t = torch.zeros(net.neurons, rows.shape[1]).index_add_(
                0, idx, cols.reshape(len(idx), -1)
            )
            layers.append((w_in, bias, w_out_t.T))
        return _DenseResidual(embed, layers)

    def tensors(self) -> dict[str, torch.Tensor]:
        net, c = self.net, self.net.circuits
        out = {"embed": net.embed, "w_in": c.w_in, "bias": c.bias, "w_out": c.w_out}
        for k in range(self.config.layers):
            out[f"layer{k + 1}.circuit"] = net.conn_circuit[k]
            out[f"layer{k + 1}.neurons"] = net.conn_neurons[k]
            out[f"layer{k + 1}.copies"] = net.copies[k]
        return out

    @classmethod
    def from_tensors(cls, config: CiS1Config, tensors: dict[str, torch.Tensor]) -> CiS1:
        t, L = tensors, range(1, config.layers + 1)
        net = CiS1Network(
            ResidualCircuits(t["w_in"], t["bias"], t["w_out"]),
            t["embed"],
            [t[f"layer{k}.circuit"] for k in L],
            [t[f"layer{k}.neurons"] for k in L],
            [t[f"layer{k}.copies"] for k in L],
            config.neurons,
        )
        # a loaded network is verified like a built one
        net.verification = settle("CiS1", verify_cis1(net, config), config.allow_unverified)
        return cls(config, net)


register_construction("cis1", CiS1Config, lambda cfg: CiS1(cfg, build_cis1(cfg)))

__all__ = [
    "CiS1",
    "CiS1Config",
    "CiS1Network",
    "ResidualCircuits",
    "build_cis1",
    "residual_form",
    "sample_residual_inputs",
    "verify_cis1",
]
