"""Every shell command in the README runs, as written, in a fresh copy of the repository.

The commands come from the README's ```sh (or bash/shell) blocks, one per line (a trailing `\\`
continues it), and run in order in one temporary copy of the tracked files, so each sees what the
ones before it made. `superpose` there is this source tree (`python -m superpose` with the copy's
`src` first on PYTHONPATH), standing in for the activated `.venv` the README tells users about.
Two things differ from a user's shell, both listed here and checked to be in use: `make demo` /
`make test` are CI itself (checked as Makefile targets, and `.ci/run` must call `make test`), and
presets that train for minutes are shrunk in the copy (SHRINK).
The command table's `superpose …` forms are checked against the CLI itself: commands, options, and
`NAME…` exactly where an option takes several values.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHELL_LANGS = ("sh", "bash", "shell")
TIMEOUT_S = 300

# Commands that are CI itself, not run here: each must be a Makefile target.
CI_COMMANDS = {"make demo": "demo", "make test": "test"}

# Tiny forms: YAML files of the copy changed before the commands run (file → dotted key → value).
# The commands stay verbatim; only how long their presets train changes.
SHRINK: dict[str, dict[str, object]] = {
    # 36 runs × 3000 steps took 54 s of CPU here, 20 steps 17 s (mostly process start-up);
    # 20 steps keep every run, axis and output file.
    "configs/sweep-phase-2x1.yaml": {"toy.train.steps": 20},
}


def shell_commands(markdown: str) -> list[str]:
    """The commands of every ```sh/bash/shell block, in order; comments and blank lines dropped."""
    commands: list[str] = []
    fence = re.compile(r"^```[ \t]*(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
    for lang, body in fence.findall(markdown):
        if lang not in SHELL_LANGS:
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def fresh_copy(dest: Path) -> Path:
    """The tracked files as they are in the work tree: a clone of what a commit now would hold
    (a new file must be `git add`ed first, as CI would need; stray outputs stay behind)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = ROOT / rel
        if src.is_file():  # listed but deleted in the work tree: a commit would drop it too
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def shrink(copy: Path, changes: dict[str, dict[str, object]]) -> None:
    """Apply SHRINK to the copy; a key that is not in its file fails (no silent no-op)."""
    for rel, fields in changes.items():
        data = yaml.safe_load((copy / rel).read_text())
        for dotted, value in fields.items():
            *path, last = dotted.split(".")
            node = data
            for key in path:
                node = node[key]
            assert last in node, f"SHRINK: {rel} has no field {dotted}"
            node[last] = value
        (copy / rel).write_text(yaml.safe_dump(data, sort_keys=False))


@dataclass
class Ran:
    command: str
    code: int
    seconds: float  # wall
    cpu: float  # user + system seconds of the command and its children
    output: str


def run_commands(commands: list[str], copy: Path) -> list[Ran]:
    """Run each command with bash in `copy`, in order, up to and including the first failure."""
    bin_dir = copy / ".readme-bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "superpose"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m superpose "$@"\n')
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(copy / "src"),
    }
    done: list[Ran] = []
    for command in commands:
        start, cpu = time.perf_counter(), _children_cpu()
        proc = subprocess.run(
            ["bash", "-c", "set -eo pipefail\n" + command],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
        out = (proc.stdout + proc.stderr).strip()
        wall = time.perf_counter() - start
        done.append(Ran(command, proc.returncode, wall, _children_cpu() - cpu, out))
        if proc.returncode != 0:
            break
    return done


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def failure(done: list[Ran]) -> str | None:
    """A one-paragraph account of the first failing command, or None when all succeeded."""
    for r in done:
        if r.code != 0:
            return f"README command failed (exit {r.code}): {r.command}\n{r.output[-2000:]}"
    return None


def readme_commands() -> list[str]:
    return shell_commands((ROOT / "README.md").read_text())


def test_ci_commands_are_makefile_targets_and_ci_runs_the_tests():
    commands = readme_commands()
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    for command, target in CI_COMMANDS.items():
        assert command in commands, f"CI_COMMANDS lists {command!r}, the README no longer has it"
        assert target in targets, f"README runs {command!r}; the Makefile has no {target!r} target"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*make test\s*$", ci, re.M), ".ci/run does not run `make test`"


def test_every_readme_shell_command_runs_on_a_fresh_copy(tmp_path):
    commands = [c for c in readme_commands() if c not in CI_COMMANDS]
    assert commands, "no shell commands found in the README"
    for rel in SHRINK:  # every substitution is in use
        assert any(rel in c for c in commands), f"SHRINK lists {rel}; no README command uses it"
    copy = fresh_copy(tmp_path / "clone")
    shrink(copy, SHRINK)
    done = run_commands(commands, copy)
    for r in done:  # shown with `pytest -s`
        print(f"{r.seconds:6.1f} s wall {r.cpu:6.1f} s cpu  exit {r.code}  {r.command}")
    assert failure(done) is None, failure(done)
    assert len(done) == len(commands)


BROKEN = """
Some prose, then a Python block that is not run:

```python
import superpose
```

```sh
# a comment
superpose experiments
```

```bash
superpose sweep configs/sweep-phase-2x1.yaml \\
    --stor runs/phase.db
superpose runs ls runs/phase.db
```
"""


def test_extractor_reads_blocks_continuations_and_comments():
    assert shell_commands(BROKEN) == [
        "superpose experiments",
        "superpose sweep configs/sweep-phase-2x1.yaml      --stor runs/phase.db",
        "superpose runs ls runs/phase.db",
    ]


def test_a_broken_readme_command_fails_the_run(tmp_path):
    copy = fresh_copy(tmp_path / "clone")
    done = run_commands(shell_commands(BROKEN), copy)  # `--stor`: a typo of `--store`
    assert [r.code == 0 for r in done] == [True, False]  # stops at the broken one
    message = failure(done)
    assert message is not None and "--stor runs/phase.db" in message and "--stor" in done[1].output
    assert not (copy / "runs").exists()


def table_commands(markdown: str) -> list[str]:
    """The `superpose …` forms in the first cell of the README's table rows."""
    return [
        c.replace("\\|", "|") for c in re.findall(r"^\| `(superpose [^`]+)` \|", markdown, re.M)
    ]


def table_problems(markdown: str) -> list[str]:
    """What in the README's command table the CLI does not have: commands, options, and `NAME…`
    written where an option takes one value or left out where it repeats."""
    import typer.main

    from superpose.cli import app

    root = typer.main.get_command(app)
    problems: list[str] = []
    for row in table_commands(markdown):
        words = row.split()[1:]
        groups = [root]
        while words and re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", words[0]):
            names = words.pop(0).split("|")
            known = [g.commands for g in groups if hasattr(g, "commands")]
            unknown = [n for n in names if not known or any(n not in c for c in known)]
            if unknown:
                problems.append(f"`{row}`: no command {unknown[0]!r}")
                break
            groups = [c[n] for c in known for n in names]
        else:
            for cmd in groups:
                opts = {o: p for p in cmd.params for o in [*p.opts, *p.secondary_opts]}
                for flag, metavar in re.findall(
                    r"(--[a-z][\w-]*)(?:[ =]([A-Z]+…?))?", " ".join(words)
                ):
                    if flag not in opts:
                        problems.append(f"`{row}`: {cmd.name} has no option {flag}")
                    elif metavar and metavar.endswith("…") != bool(opts[flag].multiple):
                        form = "NAME…" if opts[flag].multiple else "NAME"
                        problems.append(f"`{row}`: {flag} reads as {flag} {form}")
    return problems


def test_readme_command_table_agrees_with_the_cli():
    rows = table_commands((ROOT / "README.md").read_text())
    assert len(rows) >= 5, rows
    assert table_problems((ROOT / "README.md").read_text()) == []


def test_table_check_catches_drift():
    drifted = """
| command | what it does |
|---|---|
| `superpose reproduce [--only NAME] [--out DIR]` | run experiments |
| `superpose runs ls\\|shw STORE` | look |
| `superpose sweep SPEC.yaml --store runs.db [--worker N]` | sweep |
| `superpose bench [--only NAME…] [--full]` | fine |
"""
    assert table_problems(drifted) == [
        "`superpose reproduce [--only NAME] [--out DIR]`: --only reads as --only NAME…",
        "`superpose runs ls|shw STORE`: no command 'shw'",
        "`superpose sweep SPEC.yaml --store runs.db [--worker N]`: sweep has no option --worker",
    ]
