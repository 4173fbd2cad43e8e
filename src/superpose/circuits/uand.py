"""U-AND and chosen gates as constructions: build from a config, ground truth, error statistics.

`superpose build` on a config with `construction: uand` or `construction: chosen_gates` writes
config.yaml, weights.safetensors (W, b, conn, readout, F when superposed; gates for chosen gates),
ground_truth.json (which neurons serve which pair or gate) and stats.json (errors per case).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

import torch
from torch import nn

from ..base.device import make_generator
from ..base.errors import SuperposeError
from . import boolean_errors as BE
from . import boolean_inputs as BI
from .boolean import (
    BooleanLayer,
    ChosenGatesConfig,
    UAndConfig,
    build_chosen_gates,
    build_uand,
    random_gates,
)
from .boolean_verify import verify_boolean_layer
from .construction import Construction, Sample, register_construction
from .verification import marking, settle

EXHAUSTIVE_LIMIT = 20_000_000  # exhaustive U-AND statistics when C(m,s)·pairs ≤ this, else sampled


class _BooleanConstruction(Construction):
    """One boolean ReLU layer read out per gate. x: [batch, m] boolean features."""

    report_file = "stats.json"
    layer: BooleanLayer

    @property
    def n_layers(self) -> int:
        return 1

    @property
    def max_active(self) -> int:
        return self.config.s

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.layer.hidden(x)]

    def sample(self, batch: int, active: int, generator: torch.Generator) -> Sample:
        """`active` features on per input; a gate is active when its AND is true."""
        x = BI.sample_inputs(batch, self.layer.m, active, generator, self.layer.conn.device)
        return Sample(x, self.exact(x)[0] > 0)

    @abstractmethod
    def readout_matrix(self) -> torch.Tensor:
        """Readout weights R: [gates, neurons]."""

    verification: dict[str, Any] | None = None  # the strict verification's report

    @property
    def verified(self) -> bool:
        return bool(self.verification and self.verification.get("passed"))

    def check(self) -> dict[str, Any]:
        """The strict verification's report (boolean_verify, every z ≤ s, every output the layer
        claims) plus the dense weights and saved readout reproducing the layer's readouts."""
        layer, cfg = self.layer, self.config
        report = verify_boolean_layer(layer, cfg.s, cfg.verify_batch, cfg.seed + 2, self.name)
        check_x = BI.sample_inputs(
            8, layer.m, min(2, layer.m), make_generator(0, layer.conn.device)
        )
        h_dense = torch.relu(layer.embed(check_x) @ layer.weights().T + layer.bias)
        got = h_dense @ self.readout_matrix().T
        want = self.readout([layer.hidden(check_x)])[0]
        gap = float((got - want).abs().max()) if want.numel() else 0.0
        report["dense_readout_max_gap"] = gap
        if gap > 1e-4:
            report["failures"].append(f"dense weights and readout differ by {gap:.3g}")
            report["failure"], report["passed"] = report["failures"][0], False
        return report

    def verify(self) -> dict[str, float]:
        """The strict verification; raises one line unless it passes. Returns its worst figures
        over z (the full report: self.verification)."""
        self.verification = self.check()
        settle(self.name, self.verification, allow_unverified=False)
        rows = self.verification["per_z"].values()
        recalls = [r["recall"] for r in rows if r["recall"] == r["recall"]]
        return {
            "max_wrong_per_input": max(r["wrong_per_input"] for r in rows),
            "min_recall": min(recalls) if recalls else float("nan"),
            "max_case_mean_abs_error": max(
                e for r in rows for e in r["case_mean_abs_error"].values()
            ),
        }

    def dense_module(self) -> nn.Module:
        """Linear(d_in → neurons) + ReLU, then the readout Linear(neurons → gates)."""
        W, R = self.layer.weights().cpu(), self.readout_matrix().cpu()
        hidden, read = nn.Linear(W.shape[1], W.shape[0]), nn.Linear(R.shape[1], R.shape[0], False)
        with torch.no_grad():
            hidden.weight.copy_(W)
            hidden.bias.fill_(self.layer.bias)
            read.weight.copy_(R)
        return nn.Sequential(hidden, nn.ReLU(), read)

    def tensors(self) -> dict[str, torch.Tensor]:
        layer = self.layer
        tensors = {
            "W": layer.weights(),
            "b": torch.full((layer.d,), layer.bias),
            "conn": layer.conn.to(torch.uint8),
            "readout": self.readout_matrix(),
        }
        if layer.F is not None:
            tensors["F"] = layer.F
        return tensors

    def summary(self, measured: dict[str, Any]) -> str:
        cases = measured.get("cases") or measured.get("by_inputs_on") or {}
        text = ", ".join(
            f"{k}: mean {v['mean']:.4f} worst {v['worst']:.3f}" for k, v in cases.items()
        )
        state = (
            "verified"
            if self.verified
            else f"UNVERIFIED: {(self.verification or {}).get('failure')}"
        )
        return f"built {self.name} ({measured.get('method', '')}); errors {text}; {state}"


def _layer_from(tensors: dict[str, torch.Tensor], **extra: Any) -> BooleanLayer:
    return BooleanLayer(
        conn=tensors["conn"].bool(), bias=float(tensors["b"][0]), F=tensors.get("F"), **extra
    )


class UAnd(_BooleanConstruction):
    """Every pairwise AND of m features; `pairs` [P, 2] are those listed in the ground truth."""

    name = "uand"

    def __init__(self, config: UAndConfig, layer: BooleanLayer) -> None:
        self.config, self.layer = config, layer
        n_pairs = config.m * (config.m - 1) // 2
        if n_pairs <= config.truth_pairs:
            self.pairs = BI.all_pairs(config.m)
        else:
            gen = make_generator(config.seed + 1, layer.conn.device)
            pairs = torch.randint(config.m, (config.truth_pairs, 2), generator=gen)
            pairs = torch.unique(pairs.sort(1).values, dim=0)
            self.pairs = pairs[pairs[:, 0] != pairs[:, 1]]

    @property
    def n_circuits(self) -> int:
        return len(self.pairs)

    def readout(self, acts: list[torch.Tensor]) -> list[torch.Tensor]:
        return [self.layer.readout(acts[0], self.pairs)]

    def exact(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [BI.and_truth(x, self.pairs)]

    def readout_matrix(self) -> torch.Tensor:
        return self.layer.readout_matrix(self.pairs)

    def ground_truth(self) -> dict[str, Any]:
        layer, cfg = self.layer, self.config
        counts = layer.shared_counts(self.pairs)
        masks = layer.pair_masks(self.pairs.to(layer.conn.device)).T.bool().cpu()
        return {
            **marking(self.verification),
            "p": cfg.p_value,
            "pairs": [
                {"pair": p, "neurons": masks[q].nonzero().squeeze(1).tolist()}
                for q, p in enumerate(self.pairs.tolist())
            ],
            "pairs_listed": len(self.pairs),
            "pairs_total": cfg.m * (cfg.m - 1) // 2,
            "pairs_without_neurons": int((counts == 0).sum()),
        }

    def measure(self, batch: int) -> dict[str, Any]:
        """Errors per case: exhaustive for small m (basis inputs), else sampled + worst-case search."""
        layer, cfg = self.layer, self.config
        s, m = cfg.s, cfg.m
        gen = make_generator(cfg.seed + 2, layer.conn.device)
        if math.comb(m, s) * (m * (m - 1) // 2) <= EXHAUSTIVE_LIMIT and cfg.inputs == "basis":
            stats: dict[str, Any] = {"method": "exhaustive", "cases": BE.exhaustive_stats(layer, s)}
        elif s >= 2 and m - s >= 2:
            err, case = BE.sampled_case_errors(layer, s, batch, 4, gen)
            stats = {
                "method": f"sampled ({batch} inputs × 4 pairs per case)",
                "cases": BE.case_stats(err, case),
                "worst_case_search": BE.worst_case_search(layer, s, gen, n_inputs=64),
            }
        else:
            raise SuperposeError(f"error statistics need 2 ≤ s ≤ m − 2 (got s={s}, m={m})")
        stats["predicted_basis_means"] = BE.predicted_mean_errors(s, cfg.p_value)
        return stats

    @classmethod
    def from_tensors(cls, config: UAndConfig, tensors: dict[str, torch.Tensor]) -> UAnd:
        return _build(cls(config, _layer_from(tensors)))  # verified like a built one


class ChosenGates(_BooleanConstruction):
    """A random list of `n_gates` K-input ANDs, each with its own k neurons."""

    name = "chosen_gates"

    def __init__(self, config: ChosenGatesConfig, layer: BooleanLayer) -> None:
        self.config, self.layer = config, layer

    @property
    def n_circuits(self) -> int:
        return len(self.layer.gates)

    def readout(self, acts: list[torch.Tensor]) -> list[torch.Tensor]:
        return [self.layer.gate_readout(acts[0])]

    def exact(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [BI.gate_truth(x, self.layer.gates)]

    def readout_matrix(self) -> torch.Tensor:
        return self.layer.readout_matrix()

    def ground_truth(self) -> dict[str, Any]:
        layer = self.layer
        return {
            **marking(self.verification),
            "gates": [
                {"inputs": g, "neurons": n}
                for g, n in zip(layer.gates.tolist(), layer.gate_neurons.tolist(), strict=True)
            ],
        }

    def measure(self, batch: int) -> dict[str, Any]:
        """Errors by how many of a gate's inputs are on, and a worst-case search."""
        layer, cfg = self.layer, self.config
        gen = make_generator(cfg.seed + 2, torch.device("cpu"))
        err, c = BE.sampled_gate_errors(layer, cfg.s, max(1, batch // 64), gen)
        return {
            "method": "sampled (inputs balanced over gate inputs on)",
            "by_inputs_on": {
                str(k): {
                    "mean": float(err[c == k].mean()),
                    "rms": float(err[c == k].square().mean().sqrt()),
                    "worst": float(err[c == k].abs().max()),
                }
                for k in c.unique().tolist()
            },
            "worst_case_search": {
                str(k): v for k, v in BE.gate_worst_case(layer, cfg.s, gen, n_gates=100).items()
            },
        }

    def tensors(self) -> dict[str, torch.Tensor]:
        return {
            **super().tensors(),
            "gates": self.layer.gates,
            "gate_neurons": self.layer.gate_neurons,
        }

    @classmethod
    def from_tensors(
        cls, config: ChosenGatesConfig, tensors: dict[str, torch.Tensor]
    ) -> ChosenGates:
        layer = _layer_from(tensors, gates=tensors["gates"], gate_neurons=tensors["gate_neurons"])
        return _build(cls(config, layer))  # verified like a built one


def _build(net: _BooleanConstruction) -> _BooleanConstruction:
    """Verify a built (or loaded) network: refused with one line unless allow_unverified, then
    returned marked unverified."""
    net.verification = settle(net.name, net.check(), net.config.allow_unverified)
    return net


def build_uand_construction(cfg: UAndConfig) -> UAnd:
    """Build and verify a U-AND layer (`sp.build_uand`; the layer itself is `.layer`)."""
    return _build(UAnd(cfg, build_uand(cfg)))


def build_chosen_gates_construction(
    cfg: ChosenGatesConfig, gates: torch.Tensor | None = None
) -> ChosenGates:
    """Build and verify a layer of chosen gates (`sp.build_chosen_gates`): `gates` [n_gates,
    fan_in] feature indices, or (None) `n_gates` distinct random gates drawn with seed + 1."""
    if gates is None:
        gates = random_gates(
            cfg.m, cfg.n_gates, cfg.fan_in, make_generator(cfg.seed + 1, torch.device("cpu"))
        )
    elif len(gates) != cfg.n_gates:  # the saved config would describe another network
        raise SuperposeError(f"gates: {len(gates)} given, the config's n_gates is {cfg.n_gates}")
    return _build(ChosenGates(cfg, build_chosen_gates(cfg, gates)))


register_construction("uand", UAndConfig, build_uand_construction)
register_construction("chosen_gates", ChosenGatesConfig, build_chosen_gates_construction)
