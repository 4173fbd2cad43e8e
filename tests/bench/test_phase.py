from superpose.bench import registry


def test_phase_benchmark_is_registered():
    reg = registry()
    assert "phase-diagram" in reg
    description, fn = reg["phase-diagram"]
    assert "exact" in description and callable(fn)
