"""The one greedy adversarial search for worst-case inputs of a boolean layer.

From the inputs the case fixes, features are added one at a time, each the candidate (all tried at once)
that makes |error| largest; U-AND pairs and chosen gates only differ in how an input's error is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from ..base.errors import SuperposeError
from .boolean import CASES, BooleanLayer
from .boolean_inputs import and_truth


def greedy_worst(
    error: Callable[[torch.Tensor], torch.Tensor],
    start: list[int],
    banned: Iterable[int],
    m: int,
    s: int,
) -> tuple[float, list[int]]:
    """Greedy worst exactly-s input: from `start`, add features (never one of `banned`) one at a
    time, each the one maximising |error|. error: active ids [n, k] → errors [n].
    Returns (|error| of the final input, its active features sorted)."""
    active = list(start)
    while len(active) < s:
        excluded = {*banned, *active}
        cand = torch.tensor([k for k in range(m) if k not in excluded], dtype=torch.long)
        rows = torch.cat(
            [torch.tensor(active, dtype=torch.long).repeat(len(cand), 1), cand[:, None]], 1
        )
        active.append(int(cand[int(error(rows).abs().argmax())]))
    return float(error(torch.tensor([active], dtype=torch.long)).abs()[0]), sorted(active)


def adversarial_search(
    layer: BooleanLayer,
    pair: tuple[int, int],
    case: int,
    s: int,
    restarts: int = 1,
    gen: torch.Generator | None = None,
) -> tuple[float, list[int]]:
    """Greedy search for the exactly-s input maximising |error| of one pair's readout in one case.

    The pair's inputs on as the case asks; the remaining features are added one at a time, each the
    candidate (tried all at once) that makes the error largest. Returns (|error|, active features).
    """
    i, j = pair
    fixed = [i, j][:case]
    if s < case or layer.m - 2 < s - case:
        raise SuperposeError(f"no exactly-s input for case {CASES[case]!r} with s={s}, m={layer.m}")
    pairs = torch.tensor([[i, j]], device=layer.conn.device)

    def error(rows: torch.Tensor) -> torch.Tensor:
        X = torch.zeros(len(rows), layer.m, device=layer.conn.device)
        X.scatter_(1, rows.to(layer.conn.device), 1.0)
        return (layer.readout(layer.hidden(X), pairs) - and_truth(X, pairs)).squeeze(1)

    best_err, best_set = -1.0, sorted(fixed)
    for r in range(restarts):
        start = list(fixed)
        if r and gen is not None:  # random start for later restarts: one random extra feature
            cand = [k for k in range(layer.m) if k not in (i, j)]
            start.append(cand[int(torch.randint(len(cand), (1,), generator=gen))])
        e, active = greedy_worst(error, start, (i, j), layer.m, s)
        if e > best_err:
            best_err, best_set = e, active
    return best_err, best_set


def gate_adversarial_search(
    layer: BooleanLayer, gate: int, c: int, s: int
) -> tuple[float, list[int]]:
    """Greedy worst exactly-s input for one chosen gate with c of its inputs on: the other s − c
    features are added one at a time, each the candidate maximising |error|. (|error|, active)."""
    gates = layer.gates
    truth = float(c == gates.shape[1])
    neurons = layer.gate_neurons[gate]

    def error(rows: torch.Tensor) -> torch.Tensor:
        return layer.hidden_active(rows)[:, neurons].mean(1) - truth

    return greedy_worst(error, gates[gate, :c].tolist(), gates[gate].tolist(), layer.m, s)
