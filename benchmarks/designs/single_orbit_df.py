"""Search for (v, 8, 1) difference families made of one block's orbit under a multiplier group.

A (v, k, 1) difference family whose b base blocks are B, M·B, …, M^(b−1)·B (M an automorphism of
the group of order b, fixing no nonzero element) exists exactly when the k(k − 1)/2 difference
pairs {x − y, y − x} of B fall in distinct classes, a class being the orbit of d under M together
with that of −d. Its translates are a (v, k, 1) design: every pair of points in one row, every
point in (v − 1)/(k − 1) rows. (169, 8, 1) would balance the allocations at (170, 8) T = 427–437
and (180, 8) T = 465–471, (281, 8, 1) less a point those at (280, 8) T = 1162–1166 (issue 12,
docs/allocations.md). Scaling by a unit commuting with M keeps the property, so B may hold 0
and, over Z_p, 1 (b1 = 0: no second point fixed); the C search (single_orbit_df.c) is then exhaustive.

    python benchmarks/designs/single_orbit_df.py            # the four forms, and the checks
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent


def classes(els: list, add: Callable, neg: Callable, mul: Callable, order: int) -> list[int]:
    """Each element's class: its orbit under the multiplier together with its negative's."""
    idx = {e: i for i, e in enumerate(els)}
    cls = [0] * len(els)
    count = 0
    for i, e in enumerate(els[1:], 1):
        if cls[i]:
            continue
        count += 1
        x = e
        for _ in range(order):
            cls[idx[x]] = cls[idx[neg(x)]] = count
            x = mul(x)
    return cls


def z_p(p: int, order: int) -> tuple[list, Callable, Callable, Callable, int]:
    """Z_p with multiplication by an element of the given order."""
    primes = [q for q in range(2, p) if (p - 1) % q == 0 and all(q % r for r in range(2, q))]
    g = next(a for a in range(2, p) if all(pow(a, (p - 1) // q, p) != 1 for q in primes))
    m = pow(g, (p - 1) // order, p)
    return list(range(p)), lambda a, b: (a + b) % p, lambda a: -a % p, lambda a: a * m % p, order


def z_n_unit(n: int, order: int) -> tuple[list, Callable, Callable, Callable, int]:
    """Z_n with multiplication by the smallest unit of the given order fixing no nonzero element."""
    m = next(
        a
        for a in range(2, n)
        if pow(a, order, n) == 1
        and all(pow(a, j, n) != 1 for j in range(1, order))
        and all(x * (a - 1) % n for x in range(1, n))
    )
    return list(range(n)), lambda a, b: (a + b) % n, lambda a: -a % n, lambda a: a * m % n, order


def z_q2(q: int, w1: int, w2: int) -> tuple[list, Callable, Callable, Callable, int]:
    """Z_q × Z_q with the diagonal map diag(w1, w2), w1 and w2 of order 3 mod q."""
    els = [(a, b) for a in range(q) for b in range(q)]
    return (
        els,
        lambda x, y: ((x[0] + y[0]) % q, (x[1] + y[1]) % q),
        lambda x: (-x[0] % q, -x[1] % q),
        lambda x: (x[0] * w1 % q, x[1] * w2 % q),
        3,
    )


def search(exe: Path, form: tuple, k: int, b1: int, limit: int = 3) -> tuple[list[str], str, float]:
    """Run the compiled C search on a group form; its solutions, its node count and its seconds."""
    els, add, neg, mul, order = form
    cls = classes(els, add, neg, mul, order)
    assert max(cls) == k * (k - 1) // 2, (max(cls), k)
    idx = {e: i for i, e in enumerate(els)}
    rows = [" ".join(str(idx[add(a, neg(b))]) for b in els) for a in els]
    text = "\n".join([str(len(els)), *rows, " ".join(map(str, cls))]) + "\n"
    start = time.perf_counter()
    out = subprocess.run(
        [exe, str(k), str(b1), str(limit)], input=text, capture_output=True, text=True
    )
    return out.stdout.split("\n")[:-1], out.stderr.strip(), time.perf_counter() - start


def is_family(form: tuple, block: list[int]) -> bool:
    """Whether B's orbit under the multiplier holds every nonzero difference exactly once."""
    els, add, neg, mul, order = form
    base = [els[i] for i in block]
    seen = []
    for _ in range(order):
        seen += [add(x, neg(y)) for x in base for y in base if x != y]
        base = [mul(x) for x in base]
    return sorted(seen) == sorted(els[1:])


def main() -> None:
    cases = [
        ("(61,4,1), Z_61, order 5 (a check: exists)", z_p(61, 5), 4, 1),
        ("(101,5,1), Z_101, order 5 (a check: exists)", z_p(101, 5), 5, 1),
        ("(281,8,1), Z_281, order 5", z_p(281, 5), 8, 1),
        ("(169,8,1), Z_169, order 3", z_n_unit(169, 3), 8, 1),
        ("(169,8,1), GF(169) = Z_13², diag(3, 3)", z_q2(13, 3, 3), 8, 0),
        ("(169,8,1), Z_13², diag(3, 9)", z_q2(13, 3, 9), 8, 0),
    ]
    only = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "df"
        subprocess.run(["cc", "-O2", "-o", exe, HERE / "single_orbit_df.c"], check=True)
        for name, form, k, b1 in cases:
            if only and not any(o in name for o in only):
                continue
            found, stats, seconds = search(exe, form, k, b1)
            assert all(is_family(form, list(map(int, f.split()[1:]))) for f in found)
            print(f"{name}: {found[:1] or 'none'}; {stats}, {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
