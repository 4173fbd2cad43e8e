"""TMS §"Relationship to adversarial robustness": vulnerability to the analytic optimal L2 attack
rises as superposition forms and tracks the number of features per dimension.

Measured (quick form, seed 0): vulnerability is a hump, not a monotone curve — it peaks at
S = 0.95 (14.5) and falls over four sparser settings to 8.7 at S = 0.999 while features per
dimension keep rising (4.99 → 5.92), so "tracks features per dimension" (Pearson 0.79 < 0.8) does
not hold over the whole range. Its cause is the average over inputs, not the weights (data:
`nonzero_inputs`, `vulnerability_of_nonzero_inputs`, the interference): the interference the
attack exploits, mean ‖(WᵀW)_i‖² over represented features, rises monotonically (0.50 at S = 0,
6.2 at 0.95, 8.8 at 0.999; r = 0.991 with features per dimension). But sparse inputs are mostly
all zero (non-zero: 66 % at S = 0.95, 19 % at 0.99, 2.3 % at 0.999), and on an all-zero input no
attack of norm 0.1 × the mean input norm (0.042 at S = 0.95, 0.0011 at 0.999) passes the output
bias (≈ −0.36): its loss increase is 0, so the mean falls with the share of non-zero inputs. Over
the non-zero inputs alone (attack norm 0.1 × their own mean norm) vulnerability is 15.3, 14.1,
13.0, 12.8, 13.2 at S = 0.95 … 0.999 and correlates r = 0.94 with features per dimension. The
paper ("a max L2 attack norm of 0.1 of the average input norm") does not say which inputs its
average covers; the claim keeps the literal reading (every input) and fails, documented. Other
seeds were not run.

Adversarial training (the paper's last paragraph of the section): the same model at one sparse
setting, trained on inputs attacked by the analytic optimal attack against a random feature, of
norm ε × the input's own L2 norm, one instance per ε. The paper: it reduces superposition, but
only unreasonably large attacks (80 % of the input norm) remove it. Measured (quick, S = 0.99):
features per dimension 5.68 at ε = 0, 5.84 at 0.1, 5.16 at 0.2, 2.64 at 0.4, 0.85 at 0.8 (8 of 20
features still have ‖W_i‖ > 0.5 there, with small norms: ‖W‖²_F = 4.3 < m)."""

from __future__ import annotations

import torch
from pydantic import Field

from ..base.config import FrozenConfig
from ..base.device import make_generator
from ..features import FeatureDistribution
from ..plots import plt, save_figure
from ..plots.toy import wtw_and_norms
from ..toy import metrics
from ..toy.config import ToyConfig
from ..toy.models import ToyModel
from ..toy.threads import torch_threads
from ..toy.train import importance_tensor, lr_factor, make_optimizer
from . import register
from .base import (
    Claim,
    Experiment,
    ExperimentResult,
    RunContext,
    across_sparsity,
    train_on,
    untrained,
    with_null,
)


class AdversarialConfig(FrozenConfig):
    model: ToyConfig = Field(
        across_sparsity(
            "relu_output", 20, 5, 1.0, [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999]
        ),
        description="the ReLU-output models (uniform importance): one instance per sparsity, densest first",
    )
    attack_norm: float = Field(
        0.1, gt=0, le=10, description="attack L2 norm as a fraction of the mean input norm"
    )
    attack_batch: int = Field(4096, ge=16, le=1_000_000, description="samples scored per attack")
    train_sparsity: float = Field(
        0.99, ge=0, lt=1, description="adversarial training: the sparsity of its models"
    )
    train_norms: list[float] = Field(
        [0.0, 0.05, 0.1, 0.2, 0.4, 0.8],
        min_length=2,
        description="adversarial training: attack norms ε (fraction of each input's L2 norm), "
        "increasing, the first 0 (the control); one model each, trained as `model.train` says "
        "(one seed: its restarts are not used)",
    )


def adversarial_train(toy: ToyConfig, norms: list[float], device: torch.device) -> ToyModel:
    """ReLU-output models trained on attacked inputs (TMS: "the analytic optimal attack against a
    random feature"): each sample x gets δ = ε ‖x‖ (WᵀW)_k / ‖(WᵀW)_k‖ for a uniformly drawn
    feature k (the current weights' attack, not differentiated), and the loss is
    Σ_i I_i (x_i − ReLU(WᵀW (x + δ) + b)_i)². One instance per ε in `norms` (toy: one sparsity,
    its instances set to len(norms)); the same init and data seeds as `train(toy)`."""
    n_inst, n, tc = len(norms), toy.n_features, toy.train
    model = ToyModel(toy.model, n_inst, n, toy.n_hidden, make_generator(toy.seed, device), device)
    dist = FeatureDistribution(toy.features, n_inst, n, device)
    importance = importance_tensor(toy.replace(n_instances=n_inst), device)[:, None, :]
    opt = make_optimizer(model, tc)
    eps = torch.tensor(norms, device=device)[:, None, None]
    gen = make_generator(toy.seed + 1, device)
    rows = torch.arange(n_inst, device=device)[:, None]
    with torch_threads(1):
        for step in range(tc.steps):
            for group in opt.param_groups:
                group["lr"] = tc.lr * lr_factor(tc, step)
            x = dist.sample(tc.batch_size, gen)  # [ε, batch, features]
            with torch.no_grad():
                G = metrics.gram(model.W)
                attacks = G / G.norm(dim=-1, keepdim=True).clamp_min(1e-12)  # row k: on k
                k = torch.randint(n, x.shape[:2], generator=gen, device=device)
                x_adv = x + eps * x.norm(dim=-1, keepdim=True) * attacks[rows, k]
            out = torch.relu(torch.baddbmm(model.b[:, None, :], x_adv, metrics.gram(model.W)))
            loss = (importance * (x - out).square()).sum(-1).mean(-1).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model


def claim_vulnerability_rises(vuln: torch.Tensor, factor: float = 3.0) -> Claim:
    """Vulnerability at the sparsest setting (last) is > `factor` × that of the densest (first)
    (the paper's "> 3×")."""
    ratio = float(vuln[-1] / vuln[0].clamp_min(1e-12))
    return Claim(
        id="vulnerability-rises",
        statement=f"Vulnerability to the optimal L2 attack rises more than {factor:g}× from the "
        "densest (no superposition) to the sparsest setting (superposition).",
        measured={"ratio sparsest/densest": ratio, "vulnerability": vuln.tolist()},
        expected=f"> {factor:g}",
        passed=ratio > factor,
    )


def claim_tracks_features_per_dim(curves: tuple[torch.Tensor, torch.Tensor]) -> Claim:
    """Vulnerability and features per dimension ‖W‖²_F/m are strongly correlated (Pearson ≥ 0.8).
    curves: (vulnerability [sparsities], features per dimension [sparsities])."""
    vuln, per_dim = curves
    stacked = torch.stack([vuln.float(), per_dim.float()])
    r = float(torch.corrcoef(stacked)[0, 1])
    return Claim(
        id="vulnerability-tracks-features-per-dimension",
        statement="Vulnerability tracks the number of features per dimension ‖W‖²_F / m "
        "(Pearson correlation across sparsities).",
        measured=r,
        expected="≥ 0.8 (the paper says 'tracks' without a number; 0.8 is the usual lower edge of "
        "a very strong correlation)",
        passed=r >= 0.8,
    )


#: features per dimension ‖W‖²_F / m of a model without superposition (m features of norm 1 in
#: m dimensions): at or below it superposition is gone
NO_SUPERPOSITION = 1.0
#: the attack norm the paper needed to remove superposition ("attacks had to be made unreasonably
#: large (80% input L2 norm) to fully eliminate it"): read literally, no smaller attack removed it,
#: so every tested ε below it must leave superposition and ε = 0.8 must remove it. Was a bar of
#: 0.2, "a quarter of" 80 % (no source), under which removal at ε = 0.4 (half the paper's norm)
#: passed; the paper gives no smaller 'reasonable' bar than its own, so none is added. Quick (S =
#: 0.99): 2.64 features per dimension at ε = 0.4, 0.85 at 0.8; null (no adversarial training: the
#: ε = 0 model at every ε) 5.68 throughout, never removed
PAPER_NORM = 0.8


def claim_removed_only_at_large_norms(
    curve: tuple[list[float], torch.Tensor, torch.Tensor],
) -> Claim:
    """Adversarial training removes superposition, as the paper measures it, only at the paper's
    attack norm: features per dimension fall to ≤ NO_SUPERPOSITION at ε = PAPER_NORM (which the
    grid must hold) and stay above it at every ε below. curve: (ε [norms], features per dimension [norms],
    features with ‖W_i‖ > 0.5 [norms]); the last is reported beside, not judged: the paper's
    measure is the Frobenius one, and at ε = 0.8 more features than dimensions keep small norms."""
    norms, per_dim, represented = curve
    gone = [e for e, d in zip(norms, per_dim.tolist(), strict=True) if d <= NO_SUPERPOSITION]
    first = min(gone) if gone else None
    ok = first is not None and abs(first - PAPER_NORM) < 1e-9
    return Claim(
        id="adversarial-training-removes-superposition-only-at-large-norms",
        statement="Training on analytic optimal attacks (against a random feature, norm ε × the "
        "input's norm) removes superposition, measured as the paper does, only when the attacks "
        "are as large as the paper's: features per dimension ‖W‖²_F / m reach a model without "
        f"superposition's (≤ 1) at ε = {PAPER_NORM:g} and at no smaller ε (features with "
        "‖W_i‖ > 0.5 are reported beside: more of them than dimensions may remain, with small "
        "norms).",
        measured={
            "first ε with ≤ 1 feature per dimension": first,
            "features per dimension per ε": dict(
                zip(map(str, norms), per_dim.tolist(), strict=True)
            ),
            "features with ‖W_i‖ > 0.5 per ε": dict(
                zip(map(str, norms), represented.tolist(), strict=True)
            ),
        },
        expected=f"first ε = {PAPER_NORM:g} (the paper: attacks 'had to be made unreasonably large "
        "(80% input L2 norm) to fully eliminate it', so no smaller one does)",
        passed=ok,
    )


def run(cfg: AdversarialConfig, ctx: RunContext) -> ExperimentResult:
    res = train_on(cfg.model, ctx)
    W, b = res.model.W.detach(), res.model.b.detach()
    x = res.distribution.sample(cfg.attack_batch, make_generator(cfg.model.seed + 10, ctx.device))
    att = metrics.adversarial_vulnerability(W, b, x, res.importance, cfg.attack_norm)
    vuln = att["vulnerability"].cpu()
    per_dim = (1.0 / metrics.dimensions_per_feature(W)).cpu()
    init = untrained(cfg.model).to(W.device)
    W0, b0 = init.W.detach(), init.b.detach()
    vuln0 = metrics.adversarial_vulnerability(W0, b0, x, res.importance, cfg.attack_norm)
    vuln0 = vuln0["vulnerability"].cpu()
    # the hump's cause (module note): all-zero inputs, which no attack of this norm harms
    nonzero = (x != 0).any(-1)  # [instances, batch]
    vuln_nonzero = torch.tensor(
        [
            float(
                metrics.adversarial_vulnerability(
                    W[k : k + 1],
                    b[k : k + 1],
                    x[k : k + 1, nonzero[k]],
                    res.importance[k : k + 1],
                    cfg.attack_norm,
                )["vulnerability"][0]
            )
            for k in range(W.shape[0])
        ]
    )
    rep = metrics.represented(W)
    interference = (
        (metrics.gram(W).square().sum(-1) * rep).sum(-1) / rep.sum(-1).clamp_min(1)
    ).cpu()
    peak = int(vuln.argmax())
    hump = {
        "peak sparsity": cfg.model.features.sparsity[peak],
        "vulnerability at peak": float(vuln[peak]),
        "vulnerability at sparsest": float(vuln[-1]),
        "features per dimension at peak": float(per_dim[peak]),
        "features per dimension at sparsest": float(per_dim[-1]),
    }
    density = 1.0 - torch.tensor(cfg.model.features.sparsity)

    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(
        1 / density, vuln, "o-", color="C3", label="vulnerability (mean per-input worst ΔL / λ²)"
    )
    ax.set_xscale("log")
    ax.set_xlabel("1 / (1 − S)  (inverse feature density)")
    ax.set_ylabel("vulnerability", color="C3")
    ax2 = ax.twinx()
    ax2.plot(1 / density, per_dim, "s--", color="C0", label="features per dimension ‖W‖²_F / m")
    ax2.set_ylabel("features per dimension", color="C0")
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper left", fontsize=8)
    ax.set_title(
        f"Optimal L2 attack (norm {cfg.attack_norm:g}× mean ‖x‖), n={cfg.model.n_features}, "
        f"m={cfg.model.n_hidden}",
        fontsize=9,
    )
    fig_path = save_figure(fig, ctx.figure_path("vulnerability"))

    adv_toy = cfg.model.replace(
        **{"features.sparsity": cfg.train_sparsity, "n_instances": len(cfg.train_norms)}
    )
    adv = adversarial_train(adv_toy, cfg.train_norms, ctx.device)
    W_adv = adv.W.detach().cpu()
    adv_per_dim = 1.0 / metrics.dimensions_per_feature(W_adv)
    adv_rep = metrics.represented(W_adv).sum(-1)
    fig2, ax = plt.subplots(figsize=(6.5, 4))
    eps = cfg.train_norms
    ax.plot(eps, adv_per_dim, "o-", color="C0", label="features per dimension ‖W‖²_F / m")
    ax.plot(
        eps, adv_rep / cfg.model.n_hidden, "s--", color="C2", label="represented (‖W_i‖ > 0.5) / m"
    )
    ax.axhline(NO_SUPERPOSITION, color="grey", ls=":", label="no superposition (1)")
    ax.axvline(PAPER_NORM, color="C1", ls="--", label=f"the paper's ε = {PAPER_NORM:g}")
    ax.set_xlabel("training attack norm ε (fraction of the input's L2 norm)")
    ax.set_ylabel("features per dimension")
    ax.legend(fontsize=8)
    ax.set_title(
        f"Adversarial training, n={cfg.model.n_features}, m={cfg.model.n_hidden}, "
        f"S={cfg.train_sparsity:g}: superposition vs attack norm",
        fontsize=9,
    )
    adv_figs = [
        save_figure(fig2, ctx.figure_path("adversarial_training")),
        wtw_and_norms(
            W_adv,
            [f"ε={e:g}" for e in eps],
            ctx.figure_path("adversarial_training_wtw"),
            f"Adversarially trained, S={cfg.train_sparsity:g}: WᵀW and ‖W_i‖ per attack norm ε",
        ),
    ]
    return ExperimentResult(
        claims=[
            with_null(
                claim_vulnerability_rises,
                vuln,
                vuln0,
                "untrained: the init weights training started from, attacked the same way",
            ),
            with_null(
                claim_tracks_features_per_dim,
                (vuln, per_dim),
                (vuln, per_dim.flip(0)),
                "features per dimension in reverse order of sparsity (pairing broken)",
            ),
            with_null(
                claim_removed_only_at_large_norms,
                (eps, adv_per_dim, adv_rep),
                (eps, adv_per_dim[:1].expand(len(eps)), adv_rep[:1].expand(len(eps))),
                "no adversarial training: the ε = 0 model at every ε",
            ),
        ],
        figures=[fig_path, *adv_figs],
        data={
            "sparsities": cfg.model.features.sparsity,
            "vulnerability": vuln,
            "features_per_dimension": per_dim,
            "shared_attack_vulnerability": att["shared_vulnerability"].cpu(),
            "nonzero_inputs": nonzero.float().mean(-1).cpu(),
            "vulnerability_of_nonzero_inputs": vuln_nonzero,
            "interference (mean ‖(WᵀW)_i‖² of represented features)": interference,
            "attack_norm": att["attack_norm"].cpu(),
            "loss": res.final_loss.cpu(),
            "hump": hump,
            "adversarial_training": {
                "norms": eps,
                "features_per_dimension": adv_per_dim,
                "represented": adv_rep,
            },
        },
        notes=[
            f"vulnerability peaks at S = {hump['peak sparsity']:g} "
            f"({hump['vulnerability at peak']:.3g}) and falls to "
            f"{hump['vulnerability at sparsest']:.3g} at the sparsest S while features per "
            f"dimension go from {hump['features per dimension at peak']:.3g} to "
            f"{hump['features per dimension at sparsest']:.3g}"
        ]
        if peak < len(vuln) - 1
        else [],
    )


register(
    Experiment(
        name="adversarial",
        title="Adversarial vulnerability rises with superposition",
        description="Analytic optimal L2 attacks (λ (WᵀW)_i/‖(WᵀW)_i‖, worst feature) on ReLU-output "
        "models across sparsity, next to features per dimension; adversarial training with "
        "attacks of increasing norm removes superposition only at large norms.",
        config_cls=AdversarialConfig,
        quick=AdversarialConfig().replace(**{"model.train.steps": 2500, "model.train.lr": 3e-3}),
        full=AdversarialConfig().replace(**{"model.train.restarts": 3}),
        runner=run,
        quick_seconds=12,
        full_seconds=40,
        paper="TMS §'Relationship to adversarial robustness'",
    )
)
