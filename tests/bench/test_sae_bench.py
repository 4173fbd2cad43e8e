import torch

from superpose.bench.sae import one_step_agrees, sparse_data, start_weights
from superpose.scoring.sae import SAEConfig


def test_the_plain_sae_loop_does_the_same_step_as_train_sae():
    """The sae-train benchmark's reference is the same training (one step from the same start:
    the same loss and weights); from another start, or on other batches, it is not."""
    X = sparse_data(2000, 100)
    cfg = SAEConfig(kind="topk", latents=60, k=3, batch=128, seed=0)
    start = start_weights(X, cfg)
    assert one_step_agrees(X, cfg, start)
    moved = {**start, "W_enc": start["W_enc"] + 0.01 * torch.randn_like(start["W_enc"])}
    assert not one_step_agrees(X, cfg, moved)
    assert not one_step_agrees(X, cfg.replace(seed=1), start)
