"""Machine code check: BASE's native_step.c (env, default main) against the working tree's, compiled
with the build's flags for a target this machine need not have (default icelake-server, an
AVX-512 target), width by width; the disassembly compared with addresses and symbol offsets taken
out. The same code means the same bytes on such hosts without running there: an edit meant for
one instruction set (e.g. `#if VW == 8`, AVX2) can be checked to leave the others' code alone.
    PYTHONPATH=src python benchmarks/native_bytes/machine_code.py [arch] [widths: a,b,...]
Session 13's AVX2 paths against 77f0338: the same code at every width of the default list, for
icelake-server and sapphirerapids (GCC 12); different for znver3 (AVX2), as meant. So too session
14's pinned AVX2 tiles (PIN) against 54de748 and e65dc45."""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from kernels import source_at

from superpose.toy import native

arch = sys.argv[1] if len(sys.argv) > 1 else "icelake-server"
spec = sys.argv[2] if len(sys.argv) > 2 else "1,2,5,8,16,20,24,30,32,50,64,72,100,256,1024"
widths = [int(w) for w in spec.split(",")]
sources = {
    "base": source_at(os.environ.get("BASE", "main")),
    "new": Path(os.environ.get("NEWSRC", native.SOURCE)),
}
cc = os.environ.get("CC", "cc")
# addresses, jump targets and rip-relative offsets move with any change in size: drop them
NOISE = re.compile(r"^\s*[0-9a-f]+:\s*|[0-9a-f]{3,} <[^>]*>|-?0x[0-9a-f]+\(%rip\)")


def disassembly(source: Path, m: int, out: Path) -> list[str]:
    flags = [*native.FLAGS, f"-DMH={m}", "-fPIC", "-shared", "-pthread", f"-march={arch}"]
    flags.append("-mprefer-vector-width=512")
    subprocess.run(
        [cc, *flags, str(source), "-o", str(out), "-lm"], check=True, capture_output=True
    )
    text = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(out)], capture_output=True, text=True
    ).stdout
    return [NOISE.sub("", ln) for ln in text.splitlines()[2:]]


with tempfile.TemporaryDirectory() as tmp:
    differ = 0
    for m in widths:
        code = {k: disassembly(src, m, Path(tmp) / f"{k}.so") for k, src in sources.items()}
        same = code["base"] == code["new"]
        differ += not same
        print(f"m={m}: {'same' if same else 'DIFFERENT'} ({len(code['new'])} lines)", flush=True)
    print(f"{arch}: {'the same code at every width' if not differ else f'{differ} widths differ'}")
