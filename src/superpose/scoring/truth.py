"""Ground truth of one layer: where each circuit/feature lives and when it is on.

A `Truth` is what any network with a known mechanism hands the scorer, learned or built:
- `directions: [n_dirs, D]` — each direction a circuit/feature writes in the layer's activations
  (raw, not normalised: `values @ directions` reconstructs the layer's signal);
- `groups: [n_dirs]` — which circuit/feature each direction belongs to (a circuit of width d owns
  d directions; a TMS feature owns one). Scoring compares dictionary latents with each group's
  subspace, so a latent anywhere inside a circuit's subspace counts as that circuit's;
- optionally, on a batch of inputs: `acts: [batch, D]` the layer's activations, `active:
  [batch, n_groups]` which circuits are on, `values: [batch, n_dirs]` their exact activations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch

from ..base.errors import SuperposeError

if TYPE_CHECKING:  # the scorer consumes built networks; it never needs them to import
    from ..circuits.cis2 import CiS2Network


@dataclass(frozen=True)
class Truth:
    """Known features of one layer (see module docstring). n_groups = groups.max() + 1."""

    directions: torch.Tensor
    groups: torch.Tensor | None = None
    acts: torch.Tensor | None = None
    active: torch.Tensor | None = None
    values: torch.Tensor | None = None
    name: str = "truth"
    _basis: list[torch.Tensor] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        dirs = self.directions
        if dirs.ndim != 2 or dirs.shape[0] < 1:
            raise SuperposeError(
                f"{self.name}: directions must be [n_dirs, D], got {list(dirs.shape)}"
            )
        object.__setattr__(self, "directions", dirs.detach().float())
        n = dirs.shape[0]
        groups = torch.arange(n) if self.groups is None else self.groups.long()
        if groups.shape != (n,) or int(groups.min()) < 0:
            raise SuperposeError(
                f"{self.name}: groups must be [n_dirs = {n}] non-negative ints, got {list(groups.shape)}"
            )
        object.__setattr__(self, "groups", groups)
        if (dirs.norm(dim=1) == 0).any():
            i = int((dirs.norm(dim=1) == 0).nonzero()[0])
            raise SuperposeError(f"{self.name}: direction {i} is zero")
        b = None
        for key, want in (
            ("acts", self.dim),
            ("active", self.n_groups),
            ("values", n),
        ):
            t = getattr(self, key)
            if t is None:
                continue
            if t.ndim != 2 or t.shape[1] != want or (b is not None and t.shape[0] != b):
                raise SuperposeError(
                    f"{self.name}: {key} must be [batch, {want}], got {list(t.shape)}"
                )
            b = t.shape[0]
        if self.acts is not None:
            object.__setattr__(self, "acts", self.acts.detach().float())
        if self.active is not None:
            object.__setattr__(self, "active", self.active.bool())

    @property
    def dim(self) -> int:
        """D: width of the layer's activations."""
        return self.directions.shape[1]

    @property
    def n_groups(self) -> int:
        assert self.groups is not None
        return int(self.groups.max()) + 1

    @property
    def ranks(self) -> torch.Tensor:
        """Directions per group: [n_groups]."""
        assert self.groups is not None
        return torch.bincount(self.groups, minlength=self.n_groups)

    def basis(self) -> torch.Tensor:
        """Orthonormal basis of each group's span, columns in `groups` order: [D, n_dirs].

        Directions of one group are orthonormalised together (QR, batched per group size), so
        ‖basisᵀ u‖² summed over a group is the squared norm of u's projection on that group.
        """
        if self._basis:
            return self._basis[0]
        assert self.groups is not None
        Q = torch.empty(self.dim, len(self.groups))
        order = torch.argsort(self.groups, stable=True)
        ranks = self.ranks
        starts = torch.cumsum(ranks, 0) - ranks
        for r in ranks.unique().tolist():
            if r == 0:
                continue
            gs = (ranks == r).nonzero().squeeze(1)
            cols = (starts[gs].unsqueeze(1) + torch.arange(r)).reshape(-1)  # positions in `order`
            idx = order[cols]
            block = self.directions[idx].view(len(gs), r, self.dim).transpose(1, 2)
            q = torch.linalg.qr(block.double()).Q.float()  # [n_g, D, r]
            Q[:, idx] = q.transpose(1, 2).reshape(-1, self.dim).T
        self._basis.append(Q)
        return Q


def cis2_truth(
    net: CiS2Network, layer: int, x: torch.Tensor | None = None, mask: torch.Tensor | None = None
) -> Truth:
    """Ground truth of layer `layer` (0-based) of a built CiS2 network.

    Circuit t's neuron i lives on its S host neurons (direction = their 0/1 indicator), so a
    circuit owns d directions of disjoint support. With inputs x: [batch, T, d] and their on-mask
    [batch, T], also the large activations, activity and the exact small-circuit values.
    """
    if not 0 <= layer < net.L:
        raise SuperposeError(f"layer {layer} out of range: the network has layers 0..{net.L - 1}")
    T, d, D = net.T, net.d, net.width
    hosts = net.hosts(layer).cpu()  # [T, d, S]
    dirs = torch.zeros(T * d, D)
    dirs.scatter_(1, hosts.reshape(T * d, -1), 1.0)
    groups = torch.arange(T).repeat_interleave(d)
    if x is None:
        return Truth(dirs, groups, name=f"cis2 layer {layer + 1}")
    if mask is None:
        raise SuperposeError("cis2_truth: pass the inputs' on-mask [batch, T] with x")
    with torch.no_grad():
        acts = net.forward(x)[layer].cpu()
        values = net.circuits.forward(x)[layer].reshape(x.shape[0], T * d).cpu()
    return Truth(dirs, groups, acts, mask, values, name=f"cis2 layer {layer + 1}")


def construction_directions(net: Any, layer: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each circuit lives in activation layer `layer` (0-based, as `net.forward` lists them)
    of any built construction: (directions [n_dirs, D], groups [n_dirs]).

    cis2: circuit t's neuron i = the 0/1 indicator of its S host neurons (d directions per circuit);
    cis1: the residual stream holds circuit t in its embedding E_t (d orthonormal columns);
    uand / chosen_gates: each gate = the 0/1 indicator of the neurons its readout averages;
    deep_boolean: computation layer l (2l) and correction layer l (2l+1) host wire g on the
    neurons its readout row uses (`deep_boolean_directions`).
    """
    name = getattr(net, "name", type(net).__name__)
    n_layers = 2 * net.n_layers if name == "deep_boolean" else net.n_layers
    if not 0 <= layer < n_layers:
        raise SuperposeError(f"{name}: layer {layer + 1} out of range (layers 1..{n_layers})")
    if name in ("cis2", "compiled"):  # a compiled network is a CiS2 network (net.net)
        truth = cis2_truth(net.net, layer)
        return truth.directions, truth.groups
    if name == "cis1":
        E = net.net.embed.cpu()  # [T, D, d]
        T, _, d = E.shape
        return E.transpose(1, 2).reshape(T * d, -1), torch.arange(T).repeat_interleave(d)
    if name in ("uand", "chosen_gates"):
        R = net.readout_matrix().cpu()
        return (R != 0).float(), torch.arange(R.shape[0])
    if name == "deep_boolean":
        dirs, groups, _ = deep_boolean_directions(net, layer)
        return dirs, groups
    raise SuperposeError(f"scoring: no ground-truth adapter for construction {name!r}")


def deep_boolean_directions(
    net: Any, layer: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A deep boolean layer's truth, one direction per readout sign: (directions [n_dirs, D],
    groups [n_dirs] wire of each, bias [n_dirs] of each direction's neurons) — 0/1 indicators,
    first of every wire's neurons read with weight > 0, then of those read with weight < 0
    (wires that have them).

    A wire's neurons of the two signs do not fire in one fixed ratio, so one indicator over both
    (zoo v1) missed its patterns while their span holds them all: an OR wire (readout B/(1−β) −
    A/(1−β)²) fires its B neurons ReLU(a+b−β) alone with one input on (similarity 1/√2 with the
    v1 indicator), its A neurons ReLU(a+b−1−β) too with both; a correction wire fires P = ReLU(y
    − θ) and Q = ReLU(y − θ') with y its value as read, P alone where y < θ'. A direction's
    neurons share one bias (checked): its exact value is ReLU(t + bias), t = a + b (its gate's
    exact inputs) in a computation layer, the wire's exact value in a correction layer."""
    read = (net.net.compute if layer % 2 == 0 else net.net.correct)[layer // 2]
    R, bias = read.R.cpu(), read.bias.cpu()
    signs = torch.cat([R > 0, R < 0])  # [2m, D]
    keep = signs.any(1)
    dirs = signs[keep].float()
    b = (dirs @ bias) / dirs.sum(1)
    if ((bias[None, :] - b[:, None]).abs() * dirs).max() > 1e-6:
        raise SuperposeError(
            f"deep_boolean layer {layer + 1}: a direction's neurons differ in bias"
        )
    return dirs, torch.arange(R.shape[0]).repeat(2)[keep], b


def construction_wires(net: Any, layer: int, x: torch.Tensor) -> torch.Tensor:
    """Exact value of every circuit (gate, wire, circuit neuron) in layer `layer` (0-based) on
    inputs x: [batch, n_circuits·width]; the boolean ones are on where it is > 1/2."""
    exact = net.exact(x)
    value = exact[layer // 2] if net.name == "deep_boolean" else exact[layer]
    return value.reshape(x.shape[0], -1)


def construction_values(net: Any, layer: int, x: torch.Tensor) -> torch.Tensor:
    """Exact values of the directions of layer `layer` (0-based) on inputs x, in the order of
    `construction_directions`: [batch, n_dirs] (`construction_wires`; deep boolean: ReLU(t +
    bias) per direction, see `deep_boolean_directions`)."""
    if net.name != "deep_boolean":
        return construction_wires(net, layer, x)
    _, groups, bias = deep_boolean_directions(net, layer)
    if layer % 2:
        t = construction_wires(net, layer, x)
    else:
        y = x.float() if layer == 0 else net.exact(x)[layer // 2 - 1]
        gates = net.net.gates[layer // 2]
        t = y[:, gates[:, 0]] + y[:, gates[:, 1]]
    return torch.relu(t.cpu()[:, groups] + bias)


def construction_active(net: Any, layer: int, sample: Any) -> torch.Tensor:
    """Which circuits of layer `layer` (0-based) are on for a construction's sample:
    [batch, n_circuits]. Boolean gates/wires are on when their exact value is 1; others: the
    sampled on-mask."""
    if net.name in ("uand", "chosen_gates", "deep_boolean"):
        return construction_wires(net, layer, sample.x) > 0.5
    return sample.active


def network_truth(net: Any, layer: int, samples: int, active: int, seed: int = 0) -> Truth:
    """Truth of layer `layer` (0-based) of a built network on `samples` inputs with `active`
    circuits on: a CiS2 network, or any construction (cis1, cis2, compiled, uand, chosen_gates,
    deep_boolean)."""
    from ..circuits.cis2 import CiS2Network
    from ..circuits.small import sample_inputs

    if isinstance(net, CiS2Network):
        if not 1 <= active <= net.T:
            raise SuperposeError(f"active = {active}: must be in [1, T = {net.T}]")
        gen = torch.Generator().manual_seed(seed)
        x, mask = sample_inputs(net.circuits, samples, active, gen)
        return cis2_truth(net, layer, x, mask)
    if not hasattr(net, "ground_truth") or not hasattr(net, "sample"):
        raise SuperposeError(
            f"scoring: expected a built network (construction), got {type(net).__name__}"
        )
    dirs, groups = construction_directions(net, layer)
    if not 1 <= active <= net.n_circuits:
        raise SuperposeError(f"active = {active}: must be in [1, {net.n_circuits}]")
    sample = net.sample(samples, active, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        acts = net.forward(sample.x)[layer].cpu()
        values = construction_values(net, layer, sample.x).cpu()
    on = construction_active(net, layer, sample).cpu()
    return Truth(dirs, groups, acts, on, values, name=f"{net.name} layer {layer + 1}")


__all__ = [
    "Truth",
    "cis2_truth",
    "construction_active",
    "construction_directions",
    "construction_values",
    "construction_wires",
    "deep_boolean_directions",
    "network_truth",
]
