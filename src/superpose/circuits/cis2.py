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


class Robustness(FrozenConfig):
    """Noise robustness the post leaves open (issue 12): how the on-indicator's threshold is set."""

    threshold: Literal["fixed", "noise"] = Field(
        "fixed",
        description="'fixed': β = indicator_threshold; 'noise': β sized from the predicted "
        "pre-activation noise at an a0 neuron hosting no active circuit, σ = 2·sqrt(S·z·T·d²/D²) "
        "at z = max_active: β = clip(sigmas·σ, indicator_threshold, 0.9) (0.9: the on basin "
        "α > β must keep the α ≥ 0.9 the laws require)",
    )
    sigmas: float = Field(
        2.0, gt=0, le=10, description="β = sigmas·σ under threshold 'noise' (ours: 2)"
    )
    indicator_gain: float = Field(
        2.0,
        ge=2,
        le=20,
        description="g of the on-indicator a0 = ReLU(g·α − g·β/2), a1 = ReLU(g·α − g·β/2 − 1) "
        "(post: 2): a per-layer snap of α back to {0, 1} — the off threshold stays β/2, the on "
        "state saturates from α = β/2 + 1/g (post: β/2 + 1/2) and the unstable point moves to "
        "g·β/(2(g − 1)), so a steeper snap widens the on basin; a spuriously lit neuron then "
        "carries up to g/2× more",
    )
    recentre: bool = Field(
        False,
        description="value re-centring: noise through the α gate reaches an active circuit's value "
        "neuron (gate ḡ_i) and its a0/a1 neurons (gain g) at the same positions alike, cancels in "
        "α = a0 − a1 but stays in a1; each value row j of layer l ≥ 2 adds "
        "−λ_j·(a1 − a1_on·α), λ_j = Σ_i w_ji·ḡ_i/g (w_ji: the value mixing, ḡ_i: the mean gate "
        "of layer l − 1), which is 0 in the exact circuits and removes the gate noise the values "
        "carry forward",
    )


BETA_MAX = 0.9  # largest noise-sized β: the on basin α > β keeps the laws' mean α ≥ 0.9


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
        "affine",
        pattern="^(prime|affine|random)$",
        description="neuron allocation scheme: prime, affine or random",
    )
    unembedding: str = Field(
        "mean",
        pattern="^(mean|plain|overlap)$",
        description="readout U_t = (E_tᵀ − κ·1_block)/(S(1 − κ)): 'plain' κ = 0 (E_tᵀ/S), 'mean' "
        "κ = S/N (block mean removed), 'overlap' κ = (c − 1)/(T − 1) (expected bleed removed)",
    )
    positions: str = Field(
        "fixed",
        pattern="^(fixed|fresh)$",
        description="per-layer position sets: the allocation's first T sets with circuits permuted "
        "over them per layer ('fixed'; with the affine allocation balanced: where the first T "
        "are not, their most used neurons are replaced) or a fresh random subset of the "
        "allocation per layer ('fresh')",
    )
    embedding: str = Field(
        "linear",
        pattern="^(linear|linked)$",
        description="'linear': W = Σ_t E_t w_t U_t; 'linked': the post's/authors' split — the weights "
        "shared by all circuits go through the link matrix min(1, Σ_t e_t e_tᵀ) with a zero-row-sum "
        "negative correction on unlinked pairs, the circuit-specific rest through E Δw U",
    )
    indicator_threshold: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="β of the generated circuits' on-indicator a0 = ReLU(2α − β) (post: 0.5); the "
        "off margin is β/2 in α, the on basin α > β",
    )
    value_margin: float = Field(
        1.0,
        gt=0,
        le=4,
        description="δ of the generated circuits' value neurons (off at −δ; gate gain 1 + δ). A "
        "shared neuron gets one bias for all the circuits it hosts, so each active neighbour bleeds "
        "≈ δ/S extra into a circuit's values: smaller δ, less active error, thinner value margin",
    )
    robustness: Robustness = Field(
        Robustness(), description="noise robustness: on-indicator threshold fixed or noise-sized"
    )
    max_load: float = Field(
        1.0, gt=0, le=100, description="largest allowed z·T·d²/D² (capacity regime)"
    )
    verify_batch: int = Field(
        64, ge=8, le=100_000, description="sampled inputs per z used to verify the built network"
    )
    allow_unverified: bool = Field(
        False,
        description="return the network even when the strict verification fails (it still runs; "
        "the network and its ground_truth.json are marked unverified) — for studies of configs "
        "outside the regime",
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, description="random seed")


@dataclass
class CiS2Network:
    """A built CiS2 network. positions: [L, T, S] (neuron inside each block), bias: [L, D].

    verification: the strict verification's report (None until verified); `verified` says whether
    it passed — a network built with verify=False is exported marked unverified.
    """

    circuits: SmallCircuits
    positions: torch.Tensor
    bias: torch.Tensor
    width: int
    unembedding: str
    allocation: Allocation
    embedding_kind: str = "linear"
    verification: dict | None = None

    @property
    def verified(self) -> bool:
        return bool(self.verification and self.verification.get("passed"))

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
            self.embedding_kind,
            self.verification,
        )

    # --- structured path ---------------------------------------------------------------------
    def hosts(self, layer: int) -> torch.Tensor:
        """Large neuron of each (circuit, neuron, copy): [T, d, S] (layer is 0-based)."""
        pos = self.positions[layer]
        offs = torch.arange(self.d, device=pos.device).view(1, -1, 1) * self.block
        return pos.unsqueeze(1) + offs

    def _sparse(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """CSR matrices of layer l: E [D, T·d] (scatter) and its transpose [T·d, D] (gather-sum).

        Built directly in CSR (one stable sort), no COO coalesce: row (t, i) of Eᵀ holds the S
        neurons i·N + P_t (distinct), row n of E the (t, i) it hosts in increasing order."""
        cache = self.__dict__.setdefault("_csr", {})
        if layer not in cache:
            hosts = self.hosts(layer).sort(-1).values.reshape(-1)  # [T·d·S], row-major in (t, i)
            dev, nnz, TD = hosts.device, hosts.numel(), self.T * self.d
            cols = torch.arange(TD, device=dev).repeat_interleave(self.S)
            ones = torch.ones(nnz, device=dev)
            order = torch.sort(hosts, stable=True).indices
            crow = torch.zeros(self.width + 1, dtype=torch.int64, device=dev)
            crow[1:] = torch.bincount(hosts, minlength=self.width).cumsum(0)
            crow_t = torch.arange(0, nnz + 1, self.S, device=dev)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sparse CSR is marked beta
                E = torch.sparse_csr_tensor(crow, cols[order], ones, (self.width, TD))
                Et = torch.sparse_csr_tensor(crow_t, hosts, ones, (TD, self.width))
                cache[layer] = (E, Et)
        return cache[layer]

    def shared_weights(self) -> torch.Tensor:
        """w̄^l: [L, d, d], the part of the circuits' weights common to all (their mean)."""
        return self.circuits.weights.mean(0)

    def links(self, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Link matrix of layer l ≥ 1 (0-based) and its correction: Λ [N, N] CSR, χ [N].

        Λ_pq = min(1, #{t: p ∈ P_t^l, q ∈ P_t^{l−1}}); χ_p = Σ_q Λ_pq / (N − Σ_q Λ_pq), so each row
        of (1 + χ_p)Λ_pq − χ_p sums to zero (the authors use one χ ≈ 0.43 at D=1000, T=557).
        """
        cache = self.__dict__.setdefault("_links", {})
        if layer not in cache:
            S, N = self.S, self.block
            p, q = self.positions[layer], self.positions[layer - 1]
            rows = p.unsqueeze(2).expand(-1, -1, S).reshape(-1)
            cols = q.unsqueeze(1).expand(-1, S, -1).reshape(-1)
            ones = torch.ones(rows.numel(), device=rows.device)
            lam = torch.sparse_coo_tensor(torch.stack([rows, cols]), ones, (N, N)).coalesce()
            lam = torch.sparse_coo_tensor(
                lam.indices(), lam.values().clamp(max=1.0), (N, N), is_coalesced=True
            )
            deg = torch.zeros(N, device=rows.device).index_add_(0, lam.indices()[0], lam.values())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sparse CSR is marked beta
                cache[layer] = (lam.to_sparse_csr(), deg / (N - deg).clamp_min(1))
        return cache[layer]

    def _shared_t(self, A_t: torch.Tensor, layer: int) -> torch.Tensor:
        """Linked embedding's shared part: A_t [D, batch] of layer l−1 → [D, batch] pre-activations."""
        lam, chi = self.links(layer)
        N, d, S = self.block, self.d, self.S
        Ab = A_t.view(d, N, -1)
        linked = (lam @ Ab.permute(1, 0, 2).reshape(N, -1)).view(N, d, -1).permute(1, 0, 2)
        chi = chi.view(1, N, 1)
        mixed = ((1 + chi) * linked - chi * Ab.sum(1, keepdim=True)) / S  # [d, N, batch]
        w_bar = self.shared_weights()[layer].to(A_t)
        return torch.einsum("ij,jpb->ipb", w_bar, mixed).reshape(self.width, -1)

    # Internal layout is batch-last ([T·d, batch], [D, batch]) so that every step is one sparse or
    # batched matmul with no transposes: gather-sum (Eᵀ A) → d×d per circuit → scatter-add (E h).
    def _scatter_t(self, h_t: torch.Tensor, layer: int) -> torch.Tensor:
        E, _ = self._sparse(layer)
        return E @ h_t.reshape(self.T * self.d, -1)

    @property
    def kappa(self) -> float:
        """κ of the readout U_t = (E_tᵀ − κ·1_block)/(S(1 − κ)) (U_t E_t = I for any κ < 1).

        plain: 0. mean: S/N, removes each block's mean. overlap: (c − 1)/(T − 1) with c = T·S/N
        circuits per neuron, the expected share of another circuit's positions in t's — removes
        the expected bleed of other active circuits and nothing more (0 when no neuron is shared;
        'mean' then biases every readout by −S/N per other active circuit).
        """
        if self.unembedding == "plain":
            return 0.0
        if self.unembedding == "mean":
            return self.S / self.block
        c = self.T * self.S / self.block
        return max(c - 1, 0.0) / max(self.T - 1, 1)

    def _read_t(self, A_t: torch.Tensor, layer: int) -> torch.Tensor:
        _, Et = self._sparse(layer)
        r = (Et @ A_t).view(self.T, self.d, -1)
        kappa = self.kappa
        if kappa:
            sums = A_t.view(self.d, self.block, -1).sum(1)  # [d, batch]
            return (r - kappa * sums) / (self.S * (1 - kappa))
        return r / self.S

    def _layer_t(
        self,
        r_t: torch.Tensor,
        layer: int,
        A_prev_t: torch.Tensor | None = None,
        relu: bool = True,
    ) -> torch.Tensor:
        """One layer, batch-last: readouts r_t [T·d, batch] (and, linked, A^{l−1} [D, batch]);
        relu=False returns the pre-activations."""
        w = self.circuits.weights[:, layer].to(r_t)
        linked = self.embedding_kind == "linked" and layer > 0
        if linked:
            w = w - self.shared_weights()[layer].to(r_t)
        h = torch.bmm(w, r_t.view(self.T, self.d, -1))  # [T, d, batch]
        pre = self._scatter_t(h, layer) + self.bias[layer].to(r_t).unsqueeze(1)
        if linked:
            if A_prev_t is None:  # fed circuit values: their exact embedding stands in for A^{l−1}
                A_prev_t = self._scatter_t(r_t.view(self.T, self.d, -1), layer - 1)
            pre = pre + self._shared_t(A_prev_t, layer)
        return torch.relu(pre) if relu else pre

    def scatter(self, h: torch.Tensor, layer: int) -> torch.Tensor:
        """Σ_t E_t^l h_t. h: [batch, T, d] → [batch, D] (layer is 0-based)."""
        return self._scatter_t(h.permute(1, 2, 0), layer).T

    def read(self, A: torch.Tensor, layer: int) -> torch.Tensor:
        """U_t^l A for every circuit. A: [batch, D] → [batch, T, d] (layer is 0-based)."""
        return self._read_t(A.T.contiguous(), layer).permute(2, 0, 1)

    def layer(
        self, r: torch.Tensor, layer: int, A_prev: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Large activations of layer l from circuit-space inputs r: [batch, T, d] → [batch, D].

        The linked embedding's shared part reads the previous large activations A_prev: [batch, D]
        (default: the exact embedding of r)."""
        A_t = None if A_prev is None else A_prev.T.contiguous()
        return self._layer_t(r.permute(1, 2, 0).contiguous(), layer, A_t).T

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Structured forward. x: [batch, T, d] circuit inputs → L × [batch, D] large activations."""
        return [A_t.T for A_t, _ in self._run_t(x, reads=False)]

    def forward_readouts(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Structured forward keeping only the readouts: x [batch, T, d] → L × [T, d, batch]
        (batch-last, each = read(acts[l], l) transposed; the ones the forward computes anyway)."""
        return [r_t for _, r_t in self._run_t(x, reads=True)]

    def _run_t(self, x: torch.Tensor, reads: bool):
        """Yields (A^l [D, batch], readouts [T, d, batch] of layer l or None) layer by layer."""
        r_t, A_t = x.permute(1, 2, 0).contiguous(), None
        for k in range(self.L):
            A_t = self._layer_t(r_t, k, A_t)
            if k + 1 < self.L or reads:
                r_t = self._read_t(A_t, k)
            yield A_t, (r_t if reads else None)

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
        N = self.block
        blocks = torch.zeros(self.d, self.width)
        for i in range(self.d):
            blocks[i, i * N : (i + 1) * N] = 1.0
        return (E - self.kappa * blocks) / (self.S * (1 - self.kappa))

    def dense_weights(self) -> list[torch.Tensor]:
        """[W¹: [D, T·d], W²…W^L: [D, D]] — the real weights of the large network."""
        w = self.circuits.weights.cpu()
        E1 = self.embedding(0)
        Ws = [torch.einsum("nti,tij->ntj", E1, w[:, 0]).reshape(self.width, -1)]
        linked = self.embedding_kind == "linked"
        w_bar = self.shared_weights().cpu()
        for k in range(1, self.L):
            wk = w[:, k] - w_bar[k] if linked else w[:, k]
            G = torch.einsum("tij,tjm->tim", wk, self.unembedding_matrix(k - 1))
            W = self.embedding(k).reshape(self.width, -1) @ G.reshape(-1, self.width)
            if linked:
                lam, chi = self.links(k)
                lam = lam.to_dense().cpu()
                chi = chi.cpu().unsqueeze(1)
                M = ((1 + chi) * lam - chi) / self.S  # [N, N]
                W = W + torch.kron(w_bar[k], M)
            Ws.append(W)
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


def snap_indicator(circuits: SmallCircuits, gain: float) -> SmallCircuits:
    """The generated circuits with their on-indicator steepened to gain g (Robustness.indicator_gain):
    a0 = ReLU(g·α − g·β/2), a1 = ReLU(g·α − g·β/2 − 1); values and the α they read unchanged, so the
    exact circuits still hold α ∈ {0, 1}."""
    if gain == 2.0 or circuits.threshold is None:
        return circuits
    w, b = circuits.weights.clone(), circuits.biases.clone()
    off = gain * -b[..., 0] / 2  # the g = 2 bias is β
    w[..., 0:2, 0], w[..., 0:2, 1] = gain, -gain
    b[..., 0], b[..., 1] = -off, -off - 1
    return SmallCircuits(w, b, circuits.kind, circuits.offset, circuits.inputs)


def recentre_values(circuits: SmallCircuits) -> SmallCircuits:
    """The generated circuits with value re-centring (Robustness.recentre): at layers l ≥ 2 each
    value row j adds −λ_j·(a1 − a1_on·(a0 − a1)), λ_j = Σ_i w_ji·ḡ_i/g with ḡ_i the mean (over
    circuits) weight of α in value row i at layer l − 1 and g its a0 gain; exact at α ∈ {0, 1}."""
    if circuits.threshold is None or circuits.n_layers < 2:
        return circuits
    w, b = circuits.weights.clone(), circuits.biases.clone()
    prev = w[:, :-1]
    gate = (prev[..., 2:, 0] - prev[..., 2:, 1]).mean(0) / 2  # [L−1, d−2]: α weight per row
    lam = torch.einsum("tlji,li->tlj", w[:, 1:, 2:, 2:], gate / prev[0, :, 0, 0].unsqueeze(-1))
    a1_on = (prev[..., 1, 0] + b[:, :-1, 1]).unsqueeze(-1)  # [T, L−1, 1]
    w[:, 1:, 2:, 0] += lam * a1_on
    w[:, 1:, 2:, 1] -= lam * (1 + a1_on)
    return SmallCircuits(w, b, circuits.kind, circuits.offset, circuits.inputs)


def indicator_threshold(cfg: CiS2Config) -> float:
    """β the generated circuits get: cfg.indicator_threshold, or (robustness.threshold 'noise')
    clip(sigmas·σ, indicator_threshold, BETA_MAX) with σ = 2·sqrt(S·z·T·d²/D²) the predicted RMS of
    an a0 pre-activation (gain 2) at a neuron hosting no active circuit, z = max_active."""
    if cfg.robustness.threshold == "fixed":
        return cfg.indicator_threshold
    from .errors import margin_noise_scale

    sigma = 2 * margin_noise_scale(
        cfg.redundancy, cfg.max_active, cfg.circuits, cfg.width, cfg.circuit_width
    )
    return min(BETA_MAX, max(cfg.indicator_threshold, cfg.robustness.sigmas * sigma))


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
    """Build and verify a CiS2 network for cfg; pass circuits to embed your own.

    The strict verification (cis2_regime.verify_cis2) runs on every build; a failing network is
    refused with one line (SuperposeError: figure, layer, config field) unless cfg.allow_unverified —
    then it is returned marked unverified (net.verified False, ground_truth.json says so).
    verify=False skips the check (speed benchmarks only) and marks the network unverified too.
    The regime prediction for every z is in net.verification["regime"].
    """
    from ..base.memory import check_memory
    from .cis2_regime import fixed_positions, indicator_snap, predict_regime, verify_cis2

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
        circuits = make_circuits(
            cfg.circuit_kind,
            cfg.circuits,
            cfg.layers,
            d,
            cfg.seed,
            indicator_threshold(cfg),
            cfg.value_margin,
        )
        circuits = snap_indicator(circuits, cfg.robustness.indicator_gain)
        if cfg.robustness.recentre:
            circuits = recentre_values(circuits)
    if circuits.weights.shape[:3] != (cfg.circuits, cfg.layers, d):
        raise SuperposeError(
            f"circuits have shape [T, L, d] = {list(circuits.weights.shape[:3])}, config says {[cfg.circuits, cfg.layers, d]}"
        )
    if allocation is None:
        allocation = make_allocation(
            cfg.allocation, N, cfg.redundancy, seed=cfg.seed, target=cfg.circuits
        )
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    place = fixed_positions if cfg.positions == "fixed" else layer_positions
    positions = place(allocation, cfg.circuits, cfg.layers, gen)
    net = CiS2Network(
        circuits,
        positions,
        block_bias(circuits, positions, N),
        cfg.width,
        cfg.unembedding,
        allocation,
        cfg.embedding,
    )
    snap = indicator_snap(circuits)
    gain, beta = snap if snap else (2.0, indicator_threshold(cfg))
    regime = {
        str(z): predict_regime(
            cfg.width,
            d,
            cfg.redundancy,
            cfg.circuits,
            z,
            cfg.layers,
            beta,
            cfg.embedding,
            cfg.unembedding,
            cfg.value_margin,
            gain,
        )
        for z in range(1, cfg.max_active + 1)
    }
    if not verify:
        net.verification = {"passed": False, "failure": "not verified (verify=False)"}
        net.verification["regime"] = regime
        return net
    report = verify_cis2(net, cfg.max_active, cfg.verify_batch, cfg.seed + 2)
    report["regime"] = regime
    net.verification = report
    if not report["passed"] and not cfg.allow_unverified:
        worst = regime[str(cfg.max_active)]
        side = "inside" if worst["inside"] else "outside"
        raise SuperposeError(
            f"CiS2 verification failed: {report['failure']} (regime criterion: {side}, predicted "
            f"a0 switch-on at layer 2 {worst['switch_on'][min(1, cfg.layers - 1)]:.1%})"
        )
    return net


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
        """The strict verification (cis2_regime.verify_cis2); raises one line unless it passes.

        Returns its figures, worst over z and layers (the full report: net.verification)."""
        from .cis2_regime import summary, verify_cis2

        cfg = self.config
        report = verify_cis2(self.net, cfg.max_active, cfg.verify_batch, cfg.seed + 2)
        self.net.verification = {**(self.net.verification or {}), **report}
        if not report["passed"]:
            raise SuperposeError(f"CiS2 verification failed: {report['failure']}")
        return summary(report)

    def dense_module(self) -> nn.Module:
        return self.net.dense_module()

    def tensors(self) -> dict[str, torch.Tensor]:
        net = self.net
        tensors = {
            "circuit_weights": net.circuits.weights,
            "circuit_biases": net.circuits.biases,
            "positions": net.positions,
        }
        if net.circuits.kind != self.config.circuit_kind:  # e.g. custom circuits: keep their label
            tensors["circuit_kind"] = torch.tensor(
                list(net.circuits.kind.encode()), dtype=torch.uint8
            )
        for k in range(net.L):
            tensors[f"layer{k + 1}.bias"] = net.bias[k]
        if net.dense_fits():
            for k, W in enumerate(net.dense_weights()):
                tensors[f"layer{k + 1}.weight"] = W
        return tensors

    @classmethod
    def from_tensors(cls, config: CiS2Config, tensors: dict[str, torch.Tensor]) -> CiS2:
        T, L, d, S = config.circuits, config.layers, config.circuit_width, config.redundancy
        for name, want in (("circuit_weights", (T, L, d, d)), ("positions", (L, T, S))):
            got = tuple(tensors[name].shape) if name in tensors else None
            if got != want:
                raise SuperposeError(
                    f"{name} is {list(got) if got else 'missing'}, config.yaml's circuits, "
                    f"layers, circuit_width and redundancy say {list(want)}"
                )
        kind = tensors.get("circuit_kind")
        kind = bytes(kind.tolist()).decode() if kind is not None else config.circuit_kind
        circuits = SmallCircuits(tensors["circuit_weights"], tensors["circuit_biases"], kind)
        N = config.width // config.circuit_width
        allocation = make_allocation(
            config.allocation, N, config.redundancy, seed=config.seed, target=config.circuits
        )
        bias = torch.stack([tensors[f"layer{k + 1}.bias"] for k in range(config.layers)])
        net = CiS2Network(
            circuits,
            tensors["positions"],
            bias,
            config.width,
            config.unembedding,
            allocation,
            config.embedding,
        )
        out = cls(config, net)
        try:  # a loaded network is verified like a built one
            out.verify()
        except SuperposeError:
            if not config.allow_unverified:
                raise
        return out

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
            f"last-layer active MSE {last}; "
            f"{'verified' if net.verified else 'UNVERIFIED: ' + str(net.verification['failure'])}"
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
        "readout_kappa": net.kappa,
        "embedding": net.embedding_kind,
        "verified": net.verified,
        "verification": {
            "failure": (net.verification or {}).get("failure", "not verified"),
            "regime": (net.verification or {}).get("regime"),
        },
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
    "Robustness",
    "build_cis2",
    "dense_forward",
    "ground_truth",
]
