"""The compiler: user circuits and families into one verified CiS2 network (issue 13 item 1)."""

import hashlib
import itertools
import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

import superpose as sp
from superpose.base.errors import SuperposeError
from superpose.circuits import families as F
from superpose.circuits.compiler import Compiled, as_circuit, gated
from superpose.circuits.construction import load_construction, save_construction


def user_circuits(tmp_path):
    """Three user-written circuits, one in each accepted form."""
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2), nn.ReLU())
    arrays = [
        (torch.randn(2, 2).tolist(), [0.5, -0.2]),  # a positive bias compiles
        (torch.randn(2, 2).numpy(), torch.zeros(2)),
    ]
    path = tmp_path / "tiny.safetensors"
    save_file(nn.Sequential(nn.Linear(2, 2), nn.ReLU()).state_dict(), str(path))
    return [module, arrays, path]


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    circuits = user_circuits(tmp_path_factory.mktemp("c"))
    return circuits, sp.compile(circuits, width=6 * 100, max_active=2)


# --- families compute what they claim -------------------------------------------------------


@pytest.mark.parametrize("op", ["and", "or", "xor"])
def test_gates_truth_tables(op):
    c = F.gate(op)
    x = torch.tensor(list(itertools.product([0.0, 1.0], repeat=2)))
    truth = {"and": lambda a, b: a * b, "or": lambda a, b: max(a, b), "xor": lambda a, b: a != b}
    want = torch.tensor([[float(truth[op](a, b))] for a, b in x.tolist()])
    assert torch.equal(c.forward(x)[-1], want)


@pytest.mark.parametrize("p", [2, 3, 5])
def test_modadd_table_is_exact(p):
    c = F.modadd(p)
    eye = torch.eye(p)
    pairs = list(itertools.product(range(p), repeat=2))
    x = torch.stack([torch.cat([eye[a], eye[b]]) for a, b in pairs])
    want = torch.stack([eye[(a + b) % p] for a, b in pairs])
    assert torch.equal(c.forward(x)[-1], want)
    null = F.lookup(torch.arange(p).view(-1, 1).expand(p, p) % p, values=p)  # reads only a
    assert not torch.equal(null.forward(x)[-1], want)


def test_rotation_rotates_and_chain_composes():
    c = F.rotation("r", layers=3, seed=4)
    v = torch.randn(16, 2)
    v = v / v.norm(dim=1, keepdim=True) * torch.rand(16, 1)
    out = c.forward(v + 1)[-1] - 1
    assert torch.allclose(out.norm(dim=1), v.norm(dim=1), atol=1e-5)  # a rotation keeps the norm
    assert not torch.allclose(out, v, atol=1e-2)
    a, b = F.random_mlp("a", 2, 3, 1), F.random_mlp("b", 1, 3, 2)
    ab = F.chain(a, b)
    x = torch.rand(8, 3)
    assert torch.allclose(ab.forward(x)[-1], b.forward(a.forward(x)[-1])[-1])
    assert ab.stages == ("a+b/a:1", "a+b/a:2", "a+b/b:1")
    with pytest.raises(SuperposeError, match="reads 2 inputs but 'a' gives 3"):
        F.chain(a, F.gate("and"))


def test_gated_circuit_is_exact_when_on_and_zero_when_off():
    """The compiler's gating: on → the circuit's own activations (any bias sign), off → 0, and a
    shallower circuit padded by identity layers keeps its output."""
    c = as_circuit([(torch.randn(3, 2), torch.tensor([0.7, -0.3, 0.0]))], 0)
    deep = F.random_mlp("deep", 3, 3, 0)
    w, b = gated([c, deep], 3, 5, 0.5, 1 / 3)
    small = sp.circuits.SmallCircuits(w, b, "compiled", 0.0)
    x = torch.zeros(4, 2, 5)
    u = torch.rand(4, 2)
    x[:2, 0, :2] = torch.tensor([1.5, 0.5])
    x[:2, 0, 2:4] = u[:2]
    acts = small.forward(x)
    own = c.forward(u[:2])[0]
    for k in range(3):  # layer 1 computes, 2 and 3 are identity padding
        assert torch.allclose(acts[k][:2, 0, 2:5], own, atol=1e-6)
        assert torch.allclose(acts[k][:2, 0, 0] - acts[k][:2, 0, 1], torch.ones(2))
    assert torch.equal(acts[-1][2:], torch.zeros(2, 2, 5))  # off circuits stay exactly off
    assert (b <= 0).all()


# --- compile, verify, round trip -------------------------------------------------------------


def test_three_user_circuits_compile_verified(three):
    circuits, net = three
    assert isinstance(net, Compiled) and net.net.verified
    assert net.names == ["circuit0", "circuit1", "tiny"]
    report = net.net.verification
    assert set(report["per_z"]) == {"1", "2"}  # every z ≤ max_active
    for rows in report["per_z"].values():
        assert min(rows["r2"]) >= 0.9
        assert max(rows["inactive_false_on"]) <= 1e-4  # inactive circuits stay off
        assert min(rows["alpha_mean"]) >= 0.9  # active ones stay on
    x = torch.rand(32, 3)
    inputs = net.embed({"circuit0": x})
    exact = net.outputs(inputs, exact=True)["circuit0"]
    assert torch.allclose(exact, circuits[0](x), atol=1e-5)  # the compiled circuit is the user's
    assert torch.allclose(net.outputs(inputs)["circuit0"], exact, atol=1e-4)  # one on: exact-ish
    assert net.outputs(inputs)["tiny"].abs().max() < 0.05  # the others read off


def test_round_trip_keeps_circuits_kinds_and_computation(three, tmp_path):
    _, net = three
    save_construction(net, tmp_path / "n")
    back = load_construction(tmp_path / "n")
    assert isinstance(back, Compiled) and back.names == net.names
    assert [c.kind for c in back.circuits] == ["user"] * 3
    saved = load_file(str(tmp_path / "n" / "weights.safetensors"))
    for k, v in back.tensors().items():
        assert torch.equal(v.cpu(), saved[k]), k
    sample = net.sample(16, 2, torch.Generator().manual_seed(0))
    for a, b in zip(net.forward(sample.x), back.forward(sample.x), strict=True):
        assert torch.equal(a, b)
    truth = json.loads((tmp_path / "n" / "ground_truth.json").read_text())
    assert truth["verified"] and truth["construction"] == "compiled"
    assert truth["on_indicator"]["neurons"] == [0, 1]
    entry = truth["compiled_circuits"][0]
    assert entry["widths"] == [3, 4, 2] and entry["layers"][1]["neurons"] == [2, 3]
    assert len(truth["layers"][0]["hosts"][0][2]) == net.net.S


def test_family_mix_with_chain_round_trips_and_exports_the_chain(tmp_path):
    mix = [
        F.gate("and"),
        F.gate("xor"),
        F.modadd(3),
        F.chain(F.random_mlp("r1", 1, 2, 1), F.rotation("rot", 1, 2), name="ch"),
    ]
    net = sp.compile(mix, width=11 * 40)
    eye = torch.eye(3)
    for a, b in itertools.product(range(3), repeat=2):
        x = net.embed({"add_mod3": torch.cat([eye[a], eye[b]]).unsqueeze(0)})
        assert int(net.outputs(x)["add_mod3"].argmax()) == (a + b) % 3
    save_construction(net, tmp_path / "m")
    back = load_construction(tmp_path / "m")
    assert [c.kind for c in back.circuits] == ["and", "xor", "modadd", "chain"]
    truth = json.loads((tmp_path / "m" / "ground_truth.json").read_text())
    layers = truth["compiled_circuits"][3]["layers"]
    assert [entry["computes"] for entry in layers] == ["ch/r1:1", "ch/rot:1"]
    assert truth["compiled_circuits"][0]["layers"][1]["computes"] == "and:2"


def test_names_and_input_domains_of_user_circuits():
    """A user's boolean circuit verified on boolean inputs: the XOR truth table read off."""
    xor = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1), nn.ReLU())
    with torch.no_grad():
        xor[0].weight.fill_(2.0), xor[0].bias.copy_(torch.tensor([-1.0, -3.0]))
        xor[2].weight.copy_(torch.tensor([[1.0, -3.0]])), xor[2].bias.zero_()
    net = sp.compile([xor, F.gate("and")], width=400, names=["my_xor", "and"], inputs="boolean")
    assert [c.inputs for c in net.circuits] == ["boolean", "boolean"]
    s = net.sample(64, 1, torch.Generator().manual_seed(0))
    values = s.x[s.active][:, 2:4]
    assert set(values.unique().tolist()) <= {0.0, 1.0}
    table = torch.tensor([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    out = net.outputs(net.embed({"my_xor": table}))["my_xor"]
    assert torch.equal(out.round(), torch.tensor([[0.0], [1], [1], [0]]))
    one_line(lambda: sp.compile([xor], width=400, names=["a", "b"]), "names has 2 entries")
    # a str is not a list of names (was the circuits 'a' and 'b', or a zip() ValueError)
    two = [xor, F.gate("and")]
    for names in ("ab", "abc", ["a", 2], 7):
        one_line(lambda n=names: sp.compile(two, width=400, names=n), "names must be a list of 2")
    one_line(lambda: sp.compile([xor], width=400, inputs="onehot:3"), "onehot:3", "groups of 3")
    one_line(lambda: sp.compile([xor], width=400, inputs=7), "inputs must be a domain name")


def test_parameters_that_require_grad_compile():
    """(weight, bias) pairs of a module's parameters compile (numpy() refused them)."""
    torch.manual_seed(0)
    lin = nn.Linear(2, 2)
    net = sp.compile([[(lin.weight, lin.bias)]], width=400)
    assert torch.allclose(net.circuits[0].weights[0], lin.weight.detach())


def test_same_seed_same_bytes():
    mix = [F.random_mlp("a", 2, 2, 0), F.gate("or")]
    a, b = sp.compile(mix, width=400), sp.compile(mix, width=400)
    for k, v in a.tensors().items():
        assert torch.equal(v, b.tensors()[k]), k


# --- refusals: one line naming the limit ----------------------------------------------------


def one_line(fn, *words):
    with pytest.raises(SuperposeError) as err:
        fn()
    text = str(err.value)
    assert "\n" not in text
    for w in words:
        assert w in text, text
    return text


def test_circuits_that_do_not_fit_are_refused():
    many = [F.random_mlp(f"m{i}", 3, 2, i) for i in range(400)]
    one_line(lambda: sp.compile(many, width=400), "compile:", "allocation's maximum 281")
    one_line(lambda: sp.compile(many[:250], width=400, max_load=0.01), "compile:", "capacity")
    one_line(lambda: sp.compile([F.modadd(3)], width=100), "not a multiple", "d = 11", "99 or 110")
    ragged = [F.gate("and"), F.random_mlp("deep", 3, 2, 0)]
    one_line(lambda: sp.compile(ragged, width=400, ragged="refuse"), "ragged: refuse", "'deep'")
    one_line(lambda: sp.compile([F.gate("and")], width=400, redundancy=1), "compile", "redundancy")
    # a wide z outside the regime: verification fails, one line naming figure and layer
    crowd = [F.random_mlp(f"m{i}", 3, 2, i) for i in range(250)]
    one_line(
        lambda: sp.compile(crowd, width=400, max_active=4, max_load=100), "verification failed"
    )


def test_constant_circuits_are_one_line():
    """Circuits whose outputs never vary leave verification nothing to measure (was a
    ZeroDivisionError): a dead ReLU, all-zero weights."""
    dead = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with torch.no_grad():
        dead[0].bias.fill_(-100.0)
    zero = [(torch.zeros(2, 2), torch.zeros(2))]
    for circuits in ([dead], [dead, zero]):
        one_line(lambda c=circuits: sp.compile(c, width=400), "compile:", "no variance", "biases")


@pytest.mark.parametrize(
    ("circuit", "words"),
    [
        (nn.Sequential(nn.Conv1d(2, 2, 1), nn.ReLU()), ["circuit 0 module 0", "Conv1d"]),
        (nn.Sequential(nn.Linear(2, 2)), ["ends with a Linear"]),
        (nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()), ["module 1", "Linear after"]),
        (nn.Sequential(nn.ReLU()), ["module 0", "ReLU without a Linear"]),
        (
            nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(2, 2), nn.ReLU()),
            ["layer 2", "3 outputs"],
        ),
        (nn.GRU(2, 2), ["GRU", "nn.Sequential"]),
        ([(torch.ones(2, 2), torch.ones(3))], ["layer 1", "bias must be [2]"]),
        ([(torch.ones(2), torch.ones(2))], ["layer 1", "2-D"]),
        ([(torch.ones(2, 2),)], ["layer 1", "(weight, bias) pair"]),
        ([(torch.full((2, 2), float("nan")), torch.ones(2))], ["NaN"]),
        ([(["a", "b"], [1.0])], ["not a numeric array"]),
        (42, ["int is not a circuit"]),
        ("missing.safetensors", ["no such circuit file"]),
    ],
)
def test_bad_circuit_is_one_line(circuit, words):
    one_line(lambda: sp.compile([circuit], width=400), *words)


def test_bad_files_and_names_are_one_line(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not safetensors")
    one_line(lambda: sp.compile([junk], width=400), "junk.safetensors", "not a safetensors")
    odd = tmp_path / "odd.safetensors"
    save_file({"0.weight": torch.ones(2, 2), "scale": torch.ones(1)}, str(odd))
    one_line(lambda: sp.compile([odd], width=400), "odd.safetensors", "'scale'")
    scalar = tmp_path / "scalar.safetensors"  # a 0-d weight and no bias (was an IndexError)
    save_file({"0.weight": torch.tensor(1.0)}, str(scalar))
    one_line(lambda: sp.compile([scalar], width=400), "scalar.safetensors", "2-D")
    dup = [F.gate("and"), F.gate("and")]
    one_line(lambda: sp.compile(dup, width=400), "both named 'and'")
    one_line(lambda: sp.compile(F.gate("and"), width=400), "must be a list")
    one_line(lambda: sp.compile([F.gate("and")], width=400, seed=-1), "compile", "seed")


# --- a doctored network is refused ----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("layer2.weight", ["layer2.weight differs"]),
        ("layer1.bias", ["layer1.bias differs"]),
        ("circuit_weights", ["circuit_weights of circuit 2"]),
        ("user1.0.weight", ["circuit 1", "hash"]),
        ("positions", ["positions differ"]),
    ],
)
def test_doctored_network_is_refused(three, tmp_path, key, words):
    _, net = three
    save_construction(net, tmp_path / "n")
    path = tmp_path / "n" / "weights.safetensors"
    tensors = load_file(str(path))
    t = tensors[key]
    if key == "positions":
        t[0, [0, 1]] = t[0, [1, 0]]
    else:
        t.view(-1)[-3] += 0.25  # a small change: the circuit still computes, the file lies
    save_file(tensors, str(path))
    one_line(lambda: load_construction(tmp_path / "n"), "weights_sha256 differs")
    truth = tmp_path / "n" / "ground_truth.json"  # doctored with its hash: the content checks
    record = json.loads(truth.read_text())
    record["weights_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    truth.write_text(json.dumps(record))
    one_line(lambda: load_construction(tmp_path / "n"), *words)


def test_cis2_custom_circuits_keep_their_kind_through_save(tmp_path):
    """CiS2.from_tensors used to relabel custom circuits with the config's circuit kind."""
    from superpose.circuits.small import from_torch

    mods = [nn.Sequential(nn.Linear(4, 4, bias=False), nn.ReLU()) for _ in range(10)]
    cfg = sp.CiS2Config(width=400, circuits=10, layers=1, max_active=1, allow_unverified=True)
    net = sp.circuits.CiS2(cfg, sp.build_cis2(cfg, from_torch(mods)))
    save_construction(net, tmp_path / "c")
    assert load_construction(tmp_path / "c").net.circuits.kind == "custom"
