"""Error statistics of boolean layers: exact theory, exhaustive and sampled errors per case, worst cases.

Cases of a U-AND pair are CASES (how many of its two inputs are on); of a chosen gate, c = how many of
its K inputs are on. Worst cases: the worst sampled input, then the greedy search of `boolean_search`.
"""

from __future__ import annotations

from typing import Any

import torch

from ..base.errors import SuperposeError
from .boolean import CASES, BooleanLayer
from .boolean_inputs import all_pairs, and_truth, exact_inputs, sample_inputs
from .boolean_search import adversarial_search, gate_adversarial_search

# ---------------------------------------------------------------- exact theory


def predicted_mean_errors(s: int, p: float) -> dict[str, float]:
    """Exact mean U-AND errors (basis inputs, exactly s active) per case: REFERENCE §4."""
    return {"both": (s - 2) * p, "one": (s - 1) * p, "neither": s * p - 1 + (1 - p) ** s}


def case_stats(err: torch.Tensor, case: torch.Tensor) -> dict[str, dict[str, float]]:
    """Mean (signed), mean |·|, std, RMS and worst |error| per case (neither/one/both on)."""
    out: dict[str, dict[str, float]] = {}
    err, case = err.reshape(-1).double(), case.reshape(-1)
    for c, name in enumerate(CASES):
        e = err[case == c]
        if e.numel() == 0:
            continue
        out[name] = {
            "n": int(e.numel()),
            "mean": float(e.mean()),
            "mean_abs": float(e.abs().mean()),
            "std": float(e.std()) if e.numel() > 1 else 0.0,
            "rms": float(e.square().mean().sqrt()),
            "worst": float(e.abs().max()),
        }
    return out


def uand_errors(
    layer: BooleanLayer, x: torch.Tensor, pairs: torch.Tensor, batch: int = 2048
) -> tuple[torch.Tensor, torch.Tensor]:
    """Readout − truth and the case (0/1/2 inputs on), both [batch, P], over inputs in chunks."""
    pairs = pairs.to(layer.conn.device)
    errs, cases = [], []
    for i in range(0, len(x), batch):
        xb = x[i : i + batch].to(layer.conn.device)
        errs.append(layer.readout(layer.hidden(xb), pairs) - and_truth(xb, pairs))
        cases.append((xb[:, pairs[:, 0]] + xb[:, pairs[:, 1]]).long())
    return torch.cat(errs), torch.cat(cases)


def exhaustive_stats(layer: BooleanLayer, s: int) -> dict[str, dict[str, float]]:
    """Error statistics over every exactly-s input and every pair (small m only)."""
    x = exact_inputs(layer.m, s, layer.conn.device)
    err, case = uand_errors(layer, x, all_pairs(layer.m))
    return case_stats(err, case)


def case_pairs(x: torch.Tensor, per_case: int, gen: torch.Generator) -> torch.Tensor:
    """For each input row, `per_case` pairs of each case (both on, one on, neither): [batch, 3·per_case, 2].

    x must have at least 2 active and 2 inactive features per row.
    """
    batch, m = x.shape
    keys = torch.rand(batch, m, generator=gen, device=gen.device).to(x.device)
    on_order = (keys + 2 * (1 - x)).argsort(1)  # active features first, in random order
    off_order = (keys + 2 * x).argsort(1)  # inactive first
    s_row = x.sum(1).long()
    if int(s_row.min()) < 2 or int((m - s_row).min()) < 2:
        raise SuperposeError("case_pairs needs ≥ 2 active and ≥ 2 inactive features per input")

    def pick(order: torch.Tensor, count: torch.Tensor, n: int) -> torch.Tensor:
        r = torch.rand(batch, n, generator=gen, device=gen.device).to(x.device)
        return order.gather(1, (r * count[:, None]).long().clamp(max=m - 1))

    def distinct(order: torch.Tensor, count: torch.Tensor, n: int) -> torch.Tensor:
        a = (
            torch.rand(batch, n, generator=gen, device=gen.device).to(x.device) * count[:, None]
        ).long()
        off = (
            1
            + (
                torch.rand(batch, n, generator=gen, device=gen.device).to(x.device)
                * (count[:, None] - 1)
            ).long()
        )
        b = (a + off) % count[:, None]
        return torch.stack([order.gather(1, a), order.gather(1, b)], -1)

    both = distinct(on_order, s_row, per_case)
    neither = distinct(off_order, m - s_row, per_case)
    one = torch.stack([pick(on_order, s_row, per_case), pick(off_order, m - s_row, per_case)], -1)
    return torch.cat([neither, one, both], 1)


def sampled_case_errors(
    layer: BooleanLayer, s: int, n_inputs: int, per_case: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Errors [n_inputs, 3·per_case] and cases on random exactly-s inputs, balanced across cases."""
    x = sample_inputs(n_inputs, layer.m, s, gen, layer.conn.device)
    pairs = case_pairs(x, per_case, gen)
    h = layer.hidden(x)
    got = layer.readout_per_input(h, pairs)
    truth = x.gather(1, pairs[..., 0]) * x.gather(1, pairs[..., 1])
    case = (x.gather(1, pairs[..., 0]) + x.gather(1, pairs[..., 1])).long()
    return got - truth, case


def worst_case_search(
    layer: BooleanLayer,
    s: int,
    gen: torch.Generator,
    n_inputs: int = 256,
    per_case: int = 8,
    n_targets: int = 4,
) -> dict[str, dict[str, Any]]:
    """Per case: worst |error| among sampled inputs, then greedy adversarial search from the worst
    sampled pairs. Returns {case: {sampled_worst, adversarial_worst, input}}."""
    x = sample_inputs(n_inputs, layer.m, s, gen, layer.conn.device)
    pairs = case_pairs(x, per_case, gen)
    got = layer.readout_per_input(layer.hidden(x), pairs)
    xi, xj = x.gather(1, pairs[..., 0]), x.gather(1, pairs[..., 1])
    err = (got - xi * xj).abs()
    case = (xi + xj).long()
    out: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(CASES):
        e = torch.where(case == c, err, torch.full_like(err, -1.0)).reshape(-1)
        flat_pairs = pairs.reshape(-1, 2)
        top = e.topk(min(n_targets, int((e >= 0).sum()))).indices
        adv, adv_set = -1.0, []
        for t in top.tolist():
            pij = tuple(int(v) for v in flat_pairs[t])
            a, st = adversarial_search(layer, (pij[0], pij[1]), c, s)
            if a > adv:
                adv, adv_set = a, st
        out[name] = {
            "sampled_worst": float(e.max()),
            "adversarial_worst": max(adv, float(e.max())),
            "adversarial_input": adv_set,
        }
    return out


def gate_case_inputs(
    gates: torch.Tensor, m: int, s: int, reps: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """For each gate and each number c ≤ min(K, s) of its inputs on, `reps` exactly-s inputs with
    those c inputs on and s − c random features outside the gate.

    Returns active ids [rows, s], the gate each row tests [rows] and c [rows].
    """
    G, K = gates.shape
    if m - K < s:
        raise SuperposeError(f"need m − fan_in ≥ s to fill inputs (m={m}, fan_in={K}, s={s})")
    rows_a, rows_g, rows_c = [], [], []
    gid = torch.arange(G)
    for c in range(min(K, s) + 1):
        for _ in range(reps):
            keys = torch.rand(G, m, generator=gen)
            keys.scatter_(1, gates, 2.0)  # gate inputs never drawn as "others"
            others = keys.topk(s - c, dim=1, largest=False).indices
            rows_a.append(torch.cat([gates[:, :c], others], 1))
            rows_g.append(gid)
            rows_c.append(torch.full((G,), c))
    return torch.cat(rows_a), torch.cat(rows_g), torch.cat(rows_c)


def _gate_rows(
    layer: BooleanLayer, s: int, reps: int, gen: torch.Generator, n_gates: int | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Sampled rows of gate_case_inputs for all gates or a random n_gates of them: the gate ids
    sampled, each row's gate (index into them) and c, and its readout − truth (on the layer's
    device)."""
    gates = layer.gates.cpu()
    ids = torch.arange(len(gates))
    if n_gates is not None and n_gates < len(gates):
        ids = torch.randperm(len(gates), generator=gen)[:n_gates]
    active, g, c = gate_case_inputs(gates[ids], layer.m, s, reps, gen)
    h = layer.hidden_active(active)
    neurons = layer.gate_neurons[ids.to(layer.conn.device)][g.to(layer.conn.device)]  # [rows, k]
    got = h.gather(1, neurons).mean(1)
    return ids, g, c, got - (c == gates.shape[1]).float().to(got.device)


def sampled_gate_errors(
    layer: BooleanLayer, s: int, reps: int, gen: torch.Generator, n_gates: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chosen-gate errors on inputs balanced over c = inputs of the gate on (see gate_case_inputs),
    for all gates or a random n_gates of them. Returns (errors [rows], c [rows])."""
    _, _, c, err = _gate_rows(layer, s, reps, gen, n_gates)
    return err, c.to(err.device)


def gate_worst_case(
    layer: BooleanLayer,
    s: int,
    gen: torch.Generator,
    reps: int = 2,
    n_gates: int | None = 512,
    n_targets: int = 8,
) -> dict[int, dict[str, float]]:
    """Per c (gate inputs on): worst |error| on sampled inputs, then greedy adversarial search on
    the gates with the worst sampled errors (plus random ones). {c: {sampled_worst, worst}}."""
    gates = layer.gates
    ids, g, c, err = _gate_rows(layer, s, reps, gen, n_gates)
    err = err.abs().cpu()
    out: dict[int, dict[str, float]] = {}
    for cc in range(min(gates.shape[1], s) + 1):
        sel = (c == cc).nonzero().squeeze(1)
        e = err[sel]
        order = e.argsort(descending=True)[:n_targets]
        targets = {int(ids[g[sel[o]]]) for o in order.tolist()}
        targets |= {int(t) for t in ids[torch.randperm(len(ids), generator=gen)[:2]]}
        adv = max(gate_adversarial_search(layer, t, cc, s)[0] for t in targets)
        out[cc] = {"sampled_worst": float(e.max()), "worst": max(adv, float(e.max()))}
    return out


def gate_errors(
    layer: BooleanLayer, x: torch.Tensor, gate_ids: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chosen-gate readout − truth and the number of the gate's inputs on: both [batch, G]."""
    gates = layer.gates if gate_ids is None else layer.gates[gate_ids]
    h = layer.hidden(x)
    on = x[:, gates].sum(-1)
    return layer.gate_readout(h, gate_ids) - (on == gates.shape[1]).float(), on.long()
