"""sae-recovers-circuits (REFERENCE §6): how much of each zoo entry's ground truth does a standard
SAE recover, at which layer?

For every target (a zoo entry, or a smaller variant of it in the quick form) and every hidden layer
with ground truth, a TopK SAE (4 latents per circuit, k = circuits on × directions per circuit,
unless the target says otherwise; dead latents resampled four times in the first half of training,
Bricken et al. 2023 — without it 72 % of uand's latents were dead and its detection F1, 0.21, fell
below its untrained self's) is trained on the layer's activations and scored against the
layer's truth: each circuit's host directions, which circuits are on (deep-boolean, zoo v2: a
direction per readout sign, so a wire owns the span of its neurons' patterns — v1's one indicator
per wire capped an OR wire's one-input pattern at 1/√2 < 0.9, so no dictionary could recover it).
Beside it, in the same run:
- nulls: the SAE untrained (its init: random unit latents, tied encoder, data-mean bias), over
  `null_seeds` seeds, and a random dictionary of its size (analytic chance level and one drawn);
- the field's baselines (Cunningham et al. 2023 compare SAEs with the neuron basis and PCA; Sharkey
  et al. 2022 and SynthSAEBench read MMCS/MCC against chance): the better of the layer's neurons
  and its top principal components;
- k activation samples of the layer as a dictionary, reported but not a claim: with z = 1 circuit
  on, every sample of a CiS2 layer is one circuit's own pattern, a near-oracle dictionary rather
  than a baseline (no SAE benchmark uses it; it is what the SAE should find).

Skipped, and why: tms-5-2 (in 2 dimensions a random dictionary is already within 0.98 of every
feature — measured chance MMCS 0.995 for 20 latents, band up to 1.01, and 5 of 5 features
"recovered" at 0.9 — so neither MMCS nor the recovered count can tell an SAE from chance there;
tms-40-10 is the TMS entry scored); readout layers (their truth is the output units themselves:
each unit is one circuit); resid-mlp and resid-mlp-clean (their MLP layer, where the mechanism is
learned, has no ground truth; their embedding layer is resid-mlp-naive's, scored once there);
resid-mlp-naive's MLP layer (its truth is the neuron basis itself: no superposition to recover).

Measured with the zoo-v2 deep-boolean truth (deep-boolean's SAE itself unchanged: k = 2 pinned):
quick (`superpose reproduce --quick --only sae-recovers-circuits`, 20.0 s CPU, load ~6) 9 of 9
claims hold; deep-boolean (1000-step SAE) recovers 10 and 15 of 20 wires at layers 1–2 (v1: 0 at
layer 1; random: 0), MMCS 0.78 and 0.88 against PCA's 0.64 and 0.82. Full form's deep-boolean
target alone with its full-form seeds (500 s CPU, load ~7): 50, 77, 49, 58, 41, 51 of 100 wires
recovered at layers 1–6 (v1: none at layers 1, 3, 5), MMCS 0.75, 0.88, 0.59, 0.64, 0.50, 0.56
against PCA's 0.63, 0.80, 0.47, 0.54, 0.47, 0.50, detection F1 0.85–0.98; its four claims hold.
The other targets' truth, seeds and SAEs are unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..plots import scoring as splots
from ..scoring import Score, random_dictionary, score
from ..scoring.sae import SAE, SAEConfig, sae_size, train_sae
from . import register
from .base import Claim, Experiment, ExperimentResult, RunContext, with_null


class Target(FrozenConfig):
    entry: str = Field(description="zoo entry (superpose zoo list)")
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description="fields of the entry's config changed: a smaller network of the same family",
    )
    layers: tuple[int, ...] = Field(
        (), description="1-based layers scored (empty: every hidden layer with ground truth)"
    )
    latents: int = Field(0, ge=0, le=1_000_000, description="SAE latents (0: 4 × circuits)")
    k: int = Field(0, ge=0, le=100_000, description="TopK k (0: circuits on × directions each)")
    sae: dict[str, Any] = Field(
        default_factory=dict, description="fields of the experiment's SAE config changed here"
    )


#: deep-boolean's k: its wires on per input (s = 2 at every layer of a comparator circuit), one
#: pattern each. Set here, not by `sae_size`, whose "× directions per circuit" would double it at
#: the correction layers since the truth has a direction per readout sign (zoo v2): the SAE must
#: not change with how its truth is split.
DEEP_K = 2

#: every zoo entry the experiment covers (see the module docstring for the ones it skips)
FULL_TARGETS = (
    Target(entry="cis2"),
    Target(entry="cis2-large", latents=1200, k=4),
    Target(entry="compiled-mix", latents=1200),
    Target(entry="cis1"),
    Target(entry="uand", latents=2000),
    Target(entry="deep-boolean", k=DEEP_K),
    Target(entry="tms-40-10"),
    Target(entry="resid-mlp-naive", layers=(1,)),
)

#: the quick form: smaller networks of the same families (built in seconds, trained ones in a few
#: hundred steps); cis2-large and compiled-mix (cis2 networks) only in the full form. uand keeps
#: the full form's 1.13 latents per AND (2000 for 1770; with 4 per AND, as at m = 20 before, the
#: SAE passed in quick while it failed in full with 72 % dead latents); deep-boolean at m = 20,
#: depth 1 (at depth 2 the 300-step SAE fell below PCA at layers 3–4, 0.38 vs 0.41 and 0.49 vs
#: 0.50, where the full form's 2000-step SAEs beat it at every layer: quick under-training, not
#: what full measures). Its SAE trains 1000 steps (the others 300): at 300 its correction layer
#: (2) fell below PCA against the zoo-v2 truth, MMCS 0.80 vs 0.82 (0.80 > 0.78 against v1's; full:
#: 0.88 > 0.80), the quick form's one failure where the full form holds; at 1000, 0.88 vs 0.82.
#: Listed last so the other targets keep their seeds (1000 × index + layer).
QUICK_TARGETS = (
    Target(entry="cis2", overrides={"width": 400, "circuits": 60, "layers": 2}),
    Target(entry="cis1", overrides={"width": 200, "neurons": 200, "circuits": 20, "layers": 2}),
    Target(entry="uand", overrides={"m": 40, "d": 600}, latents=880),
    Target(entry="tms-40-10", overrides={"train.steps": 2000}),
    Target(entry="resid-mlp-naive", overrides={"d_embed": 200}, layers=(1,)),
    Target(
        entry="deep-boolean",
        overrides={"m": 20, "d": 400, "depth": 1},
        k=DEEP_K,
        sae={"steps": 1000, "resample": 125},
    ),
)


class SaeRecoversCircuitsConfig(FrozenConfig):
    targets: tuple[Target, ...] = Field(FULL_TARGETS, min_length=1, description="what is scored")
    sae: SAEConfig = Field(
        SAEConfig(kind="topk", latents=1, k=1, steps=2000, batch=256, lr=3e-3, resample=250),
        description="the SAE trained at every layer (latents and k: per target)",
    )
    pool: int = Field(20_000, ge=32, le=1_000_000, description="inputs the SAE trains on")
    eval_batch: int = Field(4000, ge=16, le=1_000_000, description="inputs the scores use")
    threshold: float = Field(0.9, gt=0, le=1, description="similarity at which a circuit counts")
    null_seeds: int = Field(
        5, ge=2, le=6, description="untrained SAEs whose detection F1 sets the bar (≤ 6: see bar)"
    )


# --- the checks (one function each, run on the SAE and on its null) ---------------------------


def claim_entry(sae: list[Score], entry: str, rand: list[Score], layers: list[str]) -> Claim:
    """How much of one entry's truth the SAE recovers per layer; holds when its MMCS is above the
    random band at every layer and the drawn random dictionary lands inside it."""
    bands = [s.chance.band() for s in sae]
    return Claim(
        id=f"recovers-{entry}",
        statement=f"On {entry}, at every scored layer, a TopK SAE recovers more of the circuits than a random dictionary of its size: MMCS above the chance band (where a drawn random dictionary lands); the fraction recovered (best latent's similarity ≥ threshold), MCC and detection F1 are what it recovers.",
        measured={
            "layers": layers,
            "MMCS": [s.mmcs for s in sae],
            "recovered fraction": [s.recovered / s.n_truth for s in sae],
            "MCC": [s.mcc for s in sae],
            "F1": [s.f1 for s in sae],
            "chance band": bands,
            "random MMCS": [r.mmcs for r in rand],
        },
        expected="MMCS > band top and random inside the band, at every layer",
        passed=all(
            s.mmcs > hi and lo <= r.mmcs <= hi
            for s, r, (lo, hi) in zip(sae, rand, bands, strict=True)
        ),
    )


def claim_above_baselines(sae: list[Score], base: list[Score], layers: list[str]) -> Claim:
    return Claim(
        id="sae-above-field-baselines",
        statement="At every scored layer of every entry the SAE's MMCS beats the field's baselines (Cunningham et al. 2023): the better of the layer's neuron basis and its top principal components.",
        measured={
            "layers": layers,
            "SAE MMCS": [s.mmcs for s in sae],
            "baseline MMCS": [b.mmcs for b in base],
            "baseline": [b.name for b in base],
        },
        expected="SAE MMCS > baseline MMCS at every layer",
        passed=all(s.mmcs > b.mmcs for s, b in zip(sae, base, strict=True)),
    )


def claim_recovered(sae: list[Score], rand: list[Score], layers: list[str]) -> Claim:
    """Circuits recovered at the threshold, against the count a random dictionary reaches; beside
    it the best similarity any latent reaches with any circuit (below the threshold: none can be
    recovered)."""
    bar = [max(1.0, c + 3 * math.sqrt(c)) for c in (s.chance.recovered for s in sae)]
    return Claim(
        id="sae-recovers-circuits",
        statement="At every scored layer of every entry the SAE recovers more circuits (best latent's similarity ≥ threshold) than a random dictionary of its size can (expected count + 3√count, at least 1).",
        measured={
            "layers": layers,
            "recovered": [s.recovered for s in sae],
            "of": [s.n_truth for s in sae],
            "bar": bar,
            "random recovered": [r.recovered for r in rand],
            "best similarity": [float(s.similarity.max()) for s in sae],
        },
        expected="SAE recovered ≥ bar > random recovered, every layer",
        passed=all(s.recovered >= b > r.recovered for s, r, b in zip(sae, rand, bar, strict=True)),
    )


Z99 = 2.326  # the normal's 99th percentile


def detection_bar(untrained: list[Score]) -> float:
    """The 99th percentile of a normal fit to the untrained SAEs' detection F1 over seeds (mean +
    2.326 sd). With n ≤ 6 seeds no seed can reach it (a sample's largest z-score is at most
    (n − 1)/√n ≤ 2.04), so the untrained null fails by construction, not by luck."""
    f1 = np.array([s.f1 if s.f1 is not None else 0.0 for s in untrained])
    return float(f1.mean() + Z99 * f1.std())


def claim_detects(sae: list[Score], bar: list[float], layers: list[str]) -> Claim:
    return Claim(
        id="sae-latents-detect-activity",
        statement="At every scored layer each circuit's matched latent fires when its circuit is on: mean F1 above the 99th percentile of the same SAE untrained (normal fit over its seeds).",
        measured={
            "layers": layers,
            "F1": [s.f1 for s in sae],
            "untrained 99th percentile": bar,
            "chance F1 (blind detector)": [s.f1_chance for s in sae],
        },
        expected="F1 > untrained 99th percentile at every layer",
        passed=all(s.f1 is not None and s.f1 > b for s, b in zip(sae, bar, strict=True)),
    )


UNTRAINED = "the SAE untrained: its init (random unit latents, tied encoder, data-mean bias)"


def untrained_sae(acts: torch.Tensor, cfg: SAEConfig) -> SAE:
    """The SAE as `train_sae` initialises it for this seed, before any step (acts: [n, D])."""
    gen = torch.Generator().manual_seed(cfg.seed)
    sae = SAE(acts.shape[1], cfg.latents, cfg.kind, cfg.k)
    with torch.no_grad():
        W = torch.randn(cfg.latents, acts.shape[1], generator=gen)
        sae.W_dec.copy_(W / W.norm(dim=1, keepdim=True))
        sae.W_enc.copy_(sae.W_dec.T)
        sae.b_dec.copy_(acts.mean(0))
    return sae


def baselines(acts: torch.Tensor, k: int) -> dict[str, torch.Tensor]:
    """The field's untrained dictionaries for a layer: its neurons and its top min(k, D) principal
    components (of the centred activations acts: [n, D])."""
    D = acts.shape[1]
    _, _, Vh = torch.linalg.svd(acts - acts.mean(0), full_matrices=False)
    return {"neurons": torch.eye(D), "PCA": Vh[: min(k, D)]}


def run(cfg: SaeRecoversCircuitsConfig, ctx: RunContext) -> ExperimentResult:
    from ..toy.threads import torch_threads

    with torch_threads(1):  # small products: a second thread only waits and spins (toy/threads.py)
        return _run(cfg, ctx)


def _run(cfg: SaeRecoversCircuitsConfig, ctx: RunContext) -> ExperimentResult:
    from ..zoo import load

    labels: list[str] = []
    sae_s, rand_s, init_s, base_s, data_s = [], [], [], [], []
    nulls: list[list[Score]] = []  # per scored layer, the untrained SAE of each seed
    per_entry: dict[str, tuple[list[Score], list[Score], list[Score], list[str]]] = {}
    data: dict[str, Any] = {}
    figs = []
    for i, target in enumerate(cfg.targets):
        entry = load(target.entry, **target.overrides)
        layers = list(target.layers) or [
            n + 1
            for n, l in enumerate(entry.layers)
            if l.truth and not l.truth.startswith("output unit")
        ]
        rows: dict[str, list[Score]] = {"SAE": [], "untrained": [], "random": [], "baseline": []}
        names = []
        for layer in layers:
            seed = 1000 * i + layer
            truth = entry.truth(layer, samples=cfg.eval_batch, seed=seed)
            acts = entry.truth(layer, samples=cfg.pool, seed=seed + 500).acts
            latents, k = sae_size(truth, target.latents, target.k)
            sae_cfg = cfg.sae.replace(latents=latents, k=k, seed=cfg.sae.seed + seed, **target.sae)
            trained = train_sae(acts, sae_cfg)
            s = score(trained.sae, truth, cfg.threshold, null_draws=0)
            seeds = [
                score(
                    untrained_sae(acts, sae_cfg.replace(seed=sae_cfg.seed + j)), truth, null_draws=0
                )
                for j in range(cfg.null_seeds)
            ]
            rand = score(random_dictionary(latents, truth.dim, seed=seed), truth, null_draws=0)
            base = [score(b, truth, null_draws=0) for b in baselines(acts, latents).values()]
            best = max(zip(base, ("neurons", "PCA"), strict=True), key=lambda p: p[0].mmcs)
            best[0].name = best[1]
            samples = score(acts[:latents], truth, cfg.threshold, null_draws=0)
            label = f"{entry.name} L{layer}"
            names.append(label)
            for key, val in zip(rows, (s, seeds[0], rand, best[0]), strict=True):
                rows[key].append(val)
            nulls.append(seeds)
            data_s.append(samples)
            data[label] = {
                "sae": s.to_dict(),
                "sae_fvu": trained.fvu,
                "untrained": [u.to_dict() for u in seeds],
                "random": rand.to_dict(),
                "neurons": base[0].to_dict(),
                "pca": base[1].to_dict(),
                "activation_samples": samples.to_dict(),
            }
        labels += names
        sae_s += rows["SAE"]
        init_s += rows["untrained"]
        rand_s += rows["random"]
        base_s += rows["baseline"]
        per_entry[target.entry] = (rows["SAE"], rows["untrained"], rows["random"], names)
        figs.append(
            splots.recovery_vs_layer(
                {
                    "TopK SAE": rows["SAE"],
                    "neurons / PCA": rows["baseline"],
                    "random": rows["random"],
                },
                ctx.figure_path(f"recovery_{target.entry}"),
                f"{entry.name}: TopK SAE ({rows['SAE'][0].n_latents} latents) at layers {layers}",
            )
        )
    bar = [detection_bar(seeds) for seeds in nulls]
    claims = [
        with_null(claim_entry, sae, init, UNTRAINED, name, rand, names)
        for name, (sae, init, rand, names) in per_entry.items()
    ]
    claims += [
        with_null(claim_recovered, sae_s, init_s, UNTRAINED, rand_s, labels),
        with_null(claim_above_baselines, sae_s, init_s, UNTRAINED, base_s, labels),
        with_null(claim_detects, sae_s, init_s, UNTRAINED, bar, labels),
    ]
    figs.append(splots.similarity_matrix(sae_s[0], ctx.figure_path("similarity_first")))
    return ExperimentResult(
        claims=claims,
        figures=figs,
        data=data,
        notes=[
            "Similarity = norm of a unit latent's projection on a circuit's host subspace; a circuit is recovered when its best latent reaches the threshold.",
            "F1: each circuit's Hungarian-matched latent as a detector of the circuit being on (fires when > 0).",
            "Activation samples as a dictionary (data[...].activation_samples, MMCS "
            + ", ".join(f"{l} {d.mmcs:.2f}" for l, d in zip(labels, data_s, strict=True))
            + "): not a claim — with one circuit on, a CiS2 sample is that circuit's own pattern (a near-oracle), and no SAE benchmark uses samples as a baseline.",
        ],
    )


register(
    Experiment(
        name="sae-recovers-circuits",
        title="How much of each zoo entry's ground truth a TopK SAE recovers, per layer",
        description="A TopK SAE per hidden layer of every zoo entry with ground truth there, scored against the circuits' directions and activity beside its untrained self, a random dictionary and the neuron/PCA baselines.",
        config_cls=SaeRecoversCircuitsConfig,
        quick=SaeRecoversCircuitsConfig(
            targets=QUICK_TARGETS,
            sae=SaeRecoversCircuitsConfig().sae.replace(steps=300, resample=37),
            pool=4000,
            eval_batch=1000,
        ),
        full=SaeRecoversCircuitsConfig(),
        runner=run,
        # full: measured as three processes over the targets (uand + deep-boolean, load 3–8; cis2,
        # cis1, tms-40-10, resid-mlp-naive; cis2-large + compiled-mix, load ~2)
        quick_seconds=21,
        full_seconds=1776,
        paper="REFERENCE §6 (SAE benchmarks on known features: Sharkey et al. 2022, Cunningham et al. 2023, SynthSAEBench); the zoo's entries",
    )
)
