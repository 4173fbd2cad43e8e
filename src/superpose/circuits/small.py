"""Batches of T small MLP circuits (L layers, width d) and their exact reference forward.

A circuit maps its input a⁰ ∈ R^d through a^l = ReLU(w^l a^{l-1} + b^l). Inactive circuits have
a⁰ = 0 and must stay exactly off (all neurons 0) and stay off under small noise: this needs b ≤ 0.
The generators build circuits with the two-neuron on-indicator of CiS2 (REFERENCE §2):
a0 = ReLU(2α − β), a1 = ReLU(2α − β − 1), α = a0 − a1 (fixed points 1 = on, 0 = off; the post's
β = 0.5; any 0 < β < 1 keeps both, with the off margin β/2 and the unstable point α* = β), which gates
the value neurons 2..d−1: pre_j = Σ_k M_jk v_k + g·α − δ with v_k = a_k − (g − δ)·α the value read off.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..base.errors import SuperposeError

GAIN = 2.0  # g: on-indicator gain into the value neurons
MARGIN = 1.0  # δ: how far below zero an off value neuron sits (noise robustness)
OFFSET = GAIN - MARGIN  # value neurons hold v + OFFSET when on
THRESHOLD = 0.5  # β: the post's on-indicator threshold a0 = ReLU(2α − β)


@dataclass(frozen=True)
class SmallCircuits:
    """T small MLPs. weights: [T, L, d, d] (row = output neuron), biases: [T, L, d].

    offset: what value neurons hold beyond their payload when on (g − δ for the generated circuits,
    0 for compiled ones). inputs: draws the on circuits' inputs, (idx: [batch, active], generator) →
    [batch, active, d] (None: the generated circuits' or custom uniform inputs).
    """

    weights: torch.Tensor
    biases: torch.Tensor
    kind: str = "custom"
    offset: float = OFFSET
    inputs: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None

    def __post_init__(self) -> None:
        w, b = self.weights, self.biases
        if w.ndim != 4 or w.shape[-1] != w.shape[-2]:
            raise SuperposeError(f"circuit weights must be [T, L, d, d], got {list(w.shape)}")
        if b.shape != w.shape[:3]:
            raise SuperposeError(
                f"circuit biases must be [T, L, d] = {list(w.shape[:3])}, got {list(b.shape)}"
            )
        if (b > 0).any():
            t, layer, i = (b > 0).nonzero()[0].tolist()
            raise SuperposeError(
                f"circuit {t} layer {layer + 1} neuron {i}: positive bias {b[t, layer, i]:.3g} breaks "
                "'inactive ⇒ all neurons off' (biases must be ≤ 0)"
            )

    @property
    def threshold(self) -> float | None:
        """β of the generated on-indicator (a0 = ReLU(2α − β)); None for custom circuits."""
        return None if self.kind == "custom" else float(-self.biases[0, 0, 0])

    @property
    def n_circuits(self) -> int:
        return self.weights.shape[0]

    @property
    def n_layers(self) -> int:
        return self.weights.shape[1]

    @property
    def width(self) -> int:
        return self.weights.shape[2]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Exact activations of every layer. x: [batch, T, d] (0 for inactive) → L × [batch, T, d]."""
        acts, a = [], x
        for layer in range(self.n_layers):
            w = self.weights[:, layer].to(a)
            a = torch.relu(torch.einsum("tij,btj->bti", w, a) + self.biases[:, layer].to(a))
            acts.append(a)
        return acts

    def to(self, device: torch.device | str) -> SmallCircuits:
        return SmallCircuits(
            self.weights.to(device), self.biases.to(device), self.kind, self.offset, self.inputs
        )


def _indicator_weights(
    mix: torch.Tensor, threshold: float = THRESHOLD, margin: float = MARGIN
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights and biases of on-indicator circuits with value mixing `mix`: [..., d−2, d−2].

    margin δ: how far below zero an off value neuron sits; the gate gain is g = OFFSET + δ so the
    on value neurons still hold v + OFFSET.
    """
    if not 0 < margin <= 4:
        raise SuperposeError(f"value margin δ = {margin} must lie in (0, 4]")
    if not 0 < threshold < 1:
        raise SuperposeError(
            f"indicator threshold β = {threshold} must lie in (0, 1) (α = 1 and 0 stay fixed points)"
        )
    k = mix.shape[-1]
    d = k + 2
    w = torch.zeros(*mix.shape[:-2], d, d, dtype=mix.dtype)
    b = torch.zeros(*mix.shape[:-2], d, dtype=mix.dtype)
    w[..., 0, 0], w[..., 0, 1], b[..., 0] = 2.0, -2.0, -threshold
    w[..., 1, 0], w[..., 1, 1], b[..., 1] = 2.0, -2.0, -threshold - 1
    w[..., 2:, 2:] = mix
    alpha_coef = OFFSET + margin - OFFSET * mix.sum(-1)  # [..., k]: coefficient of α in pre_j
    w[..., 2:, 0] = alpha_coef
    w[..., 2:, 1] = -alpha_coef
    b[..., 2:] = -margin
    return w, b


def rotation_circuits(
    n_circuits: int,
    n_layers: int,
    seed: int = 0,
    threshold: float = THRESHOLD,
    margin: float = MARGIN,
) -> SmallCircuits:
    """Conditional 2-D rotations (d = 4): each layer rotates (v_x, v_y) by a random angle when on."""
    _check_sizes(n_circuits, n_layers, 4)
    gen = torch.Generator().manual_seed(seed)
    theta = torch.rand(n_circuits, n_layers, generator=gen, dtype=torch.float64) * 2 * math.pi
    c, s = torch.cos(theta), torch.sin(theta)
    mix = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
    w, b = _indicator_weights(mix, threshold, margin)
    return SmallCircuits(w.float(), b.float(), "rotation")


def random_circuits(
    n_circuits: int,
    n_layers: int,
    width: int,
    seed: int = 0,
    threshold: float = THRESHOLD,
    margin: float = MARGIN,
) -> SmallCircuits:
    """Random noise-robust circuits: on-indicator plus a random orthogonal map of the d − 2 values."""
    _check_sizes(n_circuits, n_layers, width)
    if width < 3:
        raise SuperposeError(
            f"width d = {width}: random circuits need d ≥ 3 (2 indicator neurons + values)"
        )
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(n_circuits, n_layers, width - 2, width - 2, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    mix = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
    w, b = _indicator_weights(mix, threshold, margin)
    return SmallCircuits(w.float(), b.float(), "random")


def make_circuits(
    kind: str,
    n_circuits: int,
    n_layers: int,
    width: int,
    seed: int,
    threshold: float = THRESHOLD,
    margin: float = MARGIN,
) -> SmallCircuits:
    """Circuits by name: 'rotation' (d must be 4) or 'random'; the indicator's β, the values' δ."""
    if kind == "rotation":
        if width != 4:
            raise SuperposeError(f"width d = {width}: rotation circuits have d = 4")
        return rotation_circuits(n_circuits, n_layers, seed, threshold, margin)
    if kind == "random":
        return random_circuits(n_circuits, n_layers, width, seed, threshold, margin)
    raise SuperposeError(f"unknown circuit kind {kind!r}; known: rotation, random")


def from_torch(modules: list[nn.Module]) -> SmallCircuits:
    """Circuits from user MLPs: each a stack Linear(d, d) → ReLU → … (L Linear layers, same d, L)."""
    if not modules:
        raise SuperposeError("from_torch needs at least one circuit module")
    ws, bs = [], []
    for t, mod in enumerate(modules):
        children = list(mod.children()) if isinstance(mod, nn.Sequential) else [mod]
        layers_w, layers_b, expect_linear = [], [], True
        for j, child in enumerate(children):
            name = type(child).__name__
            if expect_linear:
                if not isinstance(child, nn.Linear):
                    raise SuperposeError(
                        f"circuit {t} module {j}: expected nn.Linear, got {name} (only Linear+ReLU stacks are supported)"
                    )
                if child.in_features != child.out_features:
                    raise SuperposeError(
                        f"circuit {t} module {j}: Linear({child.in_features}, {child.out_features}) is not square; circuits need width d in and out"
                    )
                layers_w.append(child.weight.detach().float())
                bias = (
                    child.bias.detach().float()
                    if child.bias is not None
                    else torch.zeros(child.out_features)
                )
                layers_b.append(bias)
            elif not isinstance(child, nn.ReLU):
                raise SuperposeError(
                    f"circuit {t} module {j}: expected nn.ReLU after Linear, got {name} (only Linear+ReLU stacks are supported)"
                )
            expect_linear = not expect_linear
        if not expect_linear or not layers_w:
            raise SuperposeError(f"circuit {t}: must be Linear, ReLU pairs ending with nn.ReLU")
        ws.append(torch.stack(layers_w))
        bs.append(torch.stack(layers_b))
    shapes = {tuple(w.shape) for w in ws}
    if len(shapes) != 1:
        raise SuperposeError(
            f"all circuits need the same layers and width; got shapes {sorted(shapes)}"
        )
    return SmallCircuits(torch.stack(ws), torch.stack(bs), "custom")


def sample_inputs(
    circuits: SmallCircuits, batch: int, active: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs with exactly `active` circuits on per sample.

    Returns x: [batch, T, d] (on: indicator (2 − β, 1 − β) and values v + OFFSET with ‖v‖ ≤ 1; custom
    circuits get uniform [0, 1) inputs) and mask: [batch, T] bool.
    """
    T, d = circuits.n_circuits, circuits.width
    if not 0 <= active <= T:
        raise SuperposeError(f"active circuits z = {active} must be in [0, T = {T}]")
    idx = torch.rand(batch, T, generator=gen).argsort(1)[:, :active]
    mask = torch.zeros(batch, T, dtype=torch.bool)
    mask.scatter_(1, idx, True)
    x = torch.zeros(batch, T, d)
    if circuits.inputs is not None:
        vals = circuits.inputs(idx, gen)
    elif circuits.kind == "custom":
        vals = torch.rand(batch, active, d, generator=gen)
    else:
        v = torch.randn(batch, active, d - 2, generator=gen)
        v = (
            v
            / v.norm(dim=-1, keepdim=True).clamp_min(1e-9)
            * torch.rand(batch, active, 1, generator=gen)
        )
        beta = circuits.threshold
        ind = torch.tensor([2 - beta, 1 - beta]).expand(batch, active, 2)
        vals = torch.cat([ind, v + OFFSET], -1)
    x.scatter_(1, idx.unsqueeze(-1).expand(-1, -1, d), vals)
    return x, mask


def _check_sizes(T: int, L: int, d: int) -> None:
    if T < 1 or L < 1 or d < 1:
        raise SuperposeError(f"circuits need T ≥ 1, L ≥ 1, d ≥ 1 (got T={T}, L={L}, d={d})")
