"""PyTorch's threads while toy models train: chosen for the work (one for small PyTorch steps and
with the native step), restored afterwards."""

import torch

from superpose.toy import threads, train
from superpose.toy.config import ToyConfig


def test_step_threads_follow_the_work():
    cpu = torch.device("cpu")
    small, big = (4, 256, 20, 5), (64, 4096, 4096, 256)  # instances, batch, features, hidden
    assert threads.step_threads(False, cpu, *small) == 1
    assert threads.step_threads(True, cpu, *big) == 1  # the native step has its own threads
    assert threads.step_threads(False, torch.device("cuda"), *big) == 1
    many = threads.step_threads(False, cpu, *big)
    assert many == max(1, min(threads.cores(), torch.get_num_threads()))


def test_train_runs_the_torch_step_on_the_chosen_threads(monkeypatch):
    seen = []
    step = train.train_step

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return step(*args, **kwargs)

    monkeypatch.setattr(train, "train_step", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        config = ToyConfig(
            model="relu_output",
            n_features=20,
            n_hidden=5,
            features={"sparsity": 0.9},
            train={"steps": 5, "batch_size": 64, "eval_batch": 256, "kernel": "torch"},
            device="cpu",
        )
        train.train(config, progress=False)
        assert seen == [1] * 5  # small work: one thread, not the inherited two
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(before)
