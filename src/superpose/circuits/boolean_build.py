"""Build a U-AND or chosen-gates layer and save it with its ground truth and error statistics
(config.yaml, weights.safetensors, ground_truth.json, stats.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ..base.config import FrozenConfig


class BuildConfig(FrozenConfig):
    """What `superpose uand build` makes."""

    construction: Literal["uand", "chosen_gates"] = Field(
        "uand", description="uand (every pair) or chosen_gates (a random list of gates)"
    )
    uand: dict[str, Any] = Field(
        default_factory=dict, description="UAndConfig fields (construction: uand)"
    )
    chosen: dict[str, Any] = Field(
        default_factory=dict, description="ChosenGatesConfig fields (construction: chosen_gates)"
    )
    n_gates: int = Field(200, ge=1, description="random gates to choose (chosen_gates)")
    truth_pairs: int = Field(
        2000, ge=1, description="U-AND pairs listed in the ground truth (all if fewer exist)"
    )
    stats_inputs: int = Field(256, ge=8, description="sampled inputs for error statistics")
    exhaustive_limit: int = Field(
        20_000_000, ge=1, description="exhaustive stats when C(m,s)·pairs ≤ this, else sampled"
    )


def build_and_save(cfg: BuildConfig, out: Path, source: str = "build config") -> dict:
    """Build, check against the exact AND on sampled inputs, and save into folder `out`."""
    import json
    import math

    import torch
    from safetensors.torch import save_file

    from ..base.config import dump_yaml, validate
    from ..base.device import make_generator
    from ..base.errors import SuperposeError
    from ..base.version import __version__
    from . import boolean as B
    from . import boolean_errors as BE
    from . import boolean_inputs as BI

    out.mkdir(parents=True, exist_ok=True)
    if cfg.construction == "uand":
        ucfg = validate(B.UAndConfig, cfg.uand, source=f"{source} (uand)")
        layer = B.build_uand(ucfg)
        gen = make_generator(ucfg.seed + 1, layer.conn.device)
        n_pairs = ucfg.m * (ucfg.m - 1) // 2
        if n_pairs <= cfg.truth_pairs:
            pairs = BI.all_pairs(ucfg.m)
        else:
            pairs = torch.unique(
                torch.randint(ucfg.m, (cfg.truth_pairs, 2), generator=gen).sort(1).values, dim=0
            )
            pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        counts = layer.shared_counts(pairs)
        masks = layer.pair_masks(pairs.to(layer.conn.device)).T.bool().cpu()
        truth = {
            "construction": "uand",
            "p": ucfg.p_value,
            "pairs": [
                {"pair": p, "neurons": masks[q].nonzero().squeeze(1).tolist()}
                for q, p in enumerate(pairs.tolist())
            ],
            "pairs_listed": len(pairs),
            "pairs_total": n_pairs,
            "pairs_without_neurons": int((counts == 0).sum()),
        }
        s, m = ucfg.s, ucfg.m
        if math.comb(m, s) * n_pairs <= cfg.exhaustive_limit and ucfg.inputs == "basis":
            stats = {"method": "exhaustive", "cases": BE.exhaustive_stats(layer, s)}
        elif s >= 2 and m - s >= 2:
            err, case = BE.sampled_case_errors(layer, s, cfg.stats_inputs, 4, gen)
            stats = {
                "method": f"sampled ({cfg.stats_inputs} inputs × 4 pairs per case)",
                "cases": BE.case_stats(err, case),
                "worst_case_search": BE.worst_case_search(layer, s, gen, n_inputs=64),
            }
        else:
            raise SuperposeError(f"error statistics need 2 ≤ s ≤ m − 2 (got s={s}, m={m})")
        stats["predicted_basis_means"] = BE.predicted_mean_errors(s, ucfg.p_value)
        readout = layer.readout_matrix(pairs)
        config_dump = ucfg
    else:
        ccfg = validate(B.ChosenGatesConfig, cfg.chosen, source=f"{source} (chosen)")
        gen = make_generator(ccfg.seed + 1, torch.device("cpu"))
        gates = B.random_gates(ccfg.m, cfg.n_gates, ccfg.fan_in, gen)
        layer = B.build_chosen_gates(ccfg, gates)
        truth = {
            "construction": "chosen_gates",
            "gates": [
                {"inputs": g, "neurons": n}
                for g, n in zip(gates.tolist(), layer.gate_neurons.tolist(), strict=True)
            ],
        }
        err, c = BE.sampled_gate_errors(layer, ccfg.s, max(1, cfg.stats_inputs // 64), gen)
        stats = {
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
                str(k): v for k, v in BE.gate_worst_case(layer, ccfg.s, gen, n_gates=100).items()
            },
        }
        readout = layer.readout_matrix()
        config_dump = ccfg
    # never silently wrong: the dense weights and saved readout reproduce the layer's readouts
    check_x = BI.sample_inputs(8, layer.m, min(2, layer.m), make_generator(0, layer.conn.device))
    h_dense = torch.relu(layer.embed(check_x) @ layer.weights().T + layer.bias)
    if layer.gates is None:
        want = layer.readout(layer.hidden(check_x), pairs)
    else:
        want = layer.gate_readout(layer.hidden(check_x))
    if not torch.allclose(h_dense @ readout.T, want, atol=1e-4):
        raise SuperposeError("internal check failed: saved weights do not reproduce the readouts")
    tensors = {
        "W": layer.weights().cpu().contiguous(),
        "b": torch.full((layer.d,), layer.bias),
        "conn": layer.conn.to(torch.uint8).cpu().contiguous(),
        "readout": readout.cpu().contiguous(),
    }
    if layer.F is not None:
        tensors["F"] = layer.F.cpu().contiguous()
    dump_yaml(cfg, out / "build.yaml")
    dump_yaml(config_dump, out / "config.yaml")
    save_file(tensors, out / "weights.safetensors", metadata={"schema": "1"})
    meta = {"schema_version": 1, "library_version": __version__}
    (out / "ground_truth.json").write_text(json.dumps({**meta, **truth}))
    (out / "stats.json").write_text(json.dumps({**meta, **stats}, indent=1))
    return stats
