"""Strict verification of the one-layer boolean constructions (U-AND, chosen gates).

For every z = 1 … s features on (sampled inputs, `verify_batch` per z), every output the layer claims
is read and compared with the exact gate: for U-AND every one of the C(m, 2) pairwise ANDs (computed
as (A∘h)ᵀA / AᵀA over the neurons that fire, A = conn), for chosen gates every gate. Checks
(verification.py): wrong bits per input ≤ 0.5, recall of the outputs that are on ≥ 0.95, and the mean
|error| of each case (how many of an output's inputs are on) below 1/4 — the best linear readout's
error (REFERENCE §4), so the layer computes what no linear map does.
"""

from __future__ import annotations

from typing import Any

import torch

from ..base.device import make_generator
from . import boolean_inputs as BI
from .boolean import BooleanLayer
from .verification import BIT_THRESHOLDS, LINEAR_ERROR, Failures, check_bits

THRESHOLDS = {
    **BIT_THRESHOLDS,
    "case_mean_abs_error_max": LINEAR_ERROR,
    "sources": BIT_THRESHOLDS["sources"] + "; mean |error| per case < 1/4: REFERENCE §4 (the best "
    "linear readout of AND is off by exactly 1/4)",
}


def _figures(read: torch.Tensor, truth: torch.Tensor, case: torch.Tensor | int) -> dict[str, Any]:
    """Bit figures and mean |error| per case of flat readouts, truths and cases (equal shapes, or
    one case for all)."""
    truth = truth.to(read.device)
    case = torch.full(read.shape, case, device=read.device) if isinstance(case, int) else case
    got, on = read >= 0.5, truth > 0.5
    err = (read - truth).abs()
    return {
        "wrong": int((got != on).sum()),
        "on": int(on.sum()),
        "on_read": int((got & on).sum()),
        "off": int((~on).sum()),
        "off_read": int((got & ~on).sum()),
        "case_sum": {int(c): float(err[case == c].sum()) for c in case.unique().tolist()},
        "case_n": {int(c): int((case == c).sum()) for c in case.unique().tolist()},
    }


def _merge(parts: list[dict[str, Any]], n_inputs: int) -> dict[str, Any]:
    tot = {k: sum(p[k] for p in parts) for k in ("wrong", "on", "on_read", "off", "off_read")}
    sums: dict[int, float] = {}
    ns: dict[int, int] = {}
    for p in parts:
        for c, v in p["case_sum"].items():
            sums[c] = sums.get(c, 0.0) + v
            ns[c] = ns.get(c, 0) + p["case_n"][c]
    return {
        "wrong_per_input": tot["wrong"] / n_inputs,
        "recall": tot["on_read"] / tot["on"] if tot["on"] else float("nan"),
        "false_on": tot["off_read"] / tot["off"] if tot["off"] else 0.0,
        "on_per_input": tot["on"] / n_inputs,
        "case_mean_abs_error": {str(c): sums[c] / ns[c] for c in sorted(sums)},
    }


EXACT_M = 2000  # up to this many features every neither-on pair is read (AᵀA kept: m² floats),
NEITHER_SAMPLES = 4096  # else this many random ones per input, their rate scaled to all C(m − z, 2)


def uand_all_pairs(layer: BooleanLayer, x: torch.Tensor, gen: torch.Generator) -> dict[str, Any]:
    """Figures over every pair i < j of m features, for inputs x: [batch, m], one input at a time.

    Pairs with an input on (both on, one on) are all read exactly: rows (A_i∘h)ᵀA / A_iᵀA over
    A = conn. Pairs with neither on are all read too up to m = EXACT_M (over the neurons that
    fire), else NEITHER_SAMPLES of them: their wrong bits count as (sampled rate) × C(m − z, 2).
    """
    A = layer.conn.float()  # [d, m]
    counts = A.T @ A if layer.m <= EXACT_M else None  # [m, m] neurons serving each pair
    parts, extra_wrong = [], 0.0
    for row in x.to(A.device):
        h = layer.hidden(row[None])[0]
        on, off = row.nonzero().squeeze(1), (row == 0).nonzero().squeeze(1)
        Ao = A[:, on]
        read = ((Ao * h[:, None]).T @ A) / (Ao.T @ A).clamp(min=1)  # [z, m]
        both = torch.triu(torch.ones(len(on), len(on), dtype=torch.bool, device=A.device), 1)
        parts.append(_figures(read[:, on][both], torch.ones(int(both.sum())), 2))
        parts.append(_figures(read[:, off].reshape(-1), torch.zeros(len(on) * len(off)), 1))
        fire = h > 0
        if len(off) < 2:
            continue
        if counts is not None:
            Af = A[fire][:, off]
            rd = ((Af * h[fire, None]).T @ Af) / counts[off][:, off].clamp(min=1)
            upper = torch.triu(torch.ones_like(rd, dtype=torch.bool), 1)
            parts.append(_figures(rd[upper], torch.zeros(int(upper.sum())), 0))
            continue
        i = torch.randint(len(off), (NEITHER_SAMPLES,), generator=gen)
        j = (i + 1 + torch.randint(len(off) - 1, (NEITHER_SAMPLES,), generator=gen)) % len(off)
        pairs = off[torch.stack([i, j], 1).to(A.device)]
        rd = layer.readout_per_input(h[None], pairs[None])[0]
        fig = _figures(rd, torch.zeros(len(rd)), 0)
        total = len(off) * (len(off) - 1) // 2
        extra_wrong += fig["wrong"] * (total / len(rd) - 1)  # the unsampled pairs, at that rate
        fig["off"], fig["off_read"] = total, fig["off_read"] * total / len(rd)
        parts.append(fig)
    out = _merge(parts, len(x))
    out["wrong_per_input"] += extra_wrong / len(x)
    return out


def chosen_gate_inputs(
    gates: torch.Tensor, m: int, z: int, batch: int, gen: torch.Generator
) -> torch.Tensor:
    """batch inputs with exactly z features on; when z ≥ fan_in, each holds a random gate's inputs
    (so gates are on in every input), the rest random. [batch, m] float."""
    K = gates.shape[1]
    keys = torch.rand(batch, m, generator=gen)
    if z >= K:
        g = gates[torch.randint(len(gates), (batch,), generator=gen)]
        keys.scatter_(1, g, 2.0)
    on = keys.topk(z, dim=1).indices
    return torch.zeros(batch, m).scatter_(1, on, 1.0)


def verify_boolean_layer(
    layer: BooleanLayer, s: int, batch: int, seed: int, name: str
) -> dict[str, Any]:
    """The strict verification of a U-AND (`name` "uand") or chosen-gates layer for z = 1 … s."""
    fail, per_z = Failures(), {}
    dev = layer.conn.device
    if name == "uand":
        fix = "raise `d` or `p`/`shared` (fewer features per neuron), lower `m` or `s`"
    else:
        fix = "raise `d` or `k`, lower `n_gates` or `s`"
    for z in range(1, s + 1):
        gen = make_generator(seed + z, torch.device("cpu"))
        if name == "uand":
            x = BI.sample_inputs(batch, layer.m, z, gen)
            fig = uand_all_pairs(layer, x, gen)
        else:
            x = chosen_gate_inputs(layer.gates.cpu(), layer.m, z, batch, gen).to(dev)
            read = layer.gate_readout(layer.hidden(x))
            truth = BI.gate_truth(x, layer.gates)
            case = x[:, layer.gates].sum(-1).long()
            fig = _merge([_figures(read, truth, case)], len(x))
        per_z[z] = fig
        where = f"with z={z} features on"
        check_bits(fail, fig, where, fix)
        for c, e in fig["case_mean_abs_error"].items():
            fail.above(e, LINEAR_ERROR, f"mean |error| of outputs with {c} inputs on", where, fix)
    return fail.report(per_z, THRESHOLDS)
