"""The interactive report in a real browser: headless Chromium (Debian's package) opens a report and
a run-store explorer made from small real runs, and the rendered DOM says what was drawn.

Driver: Chromium's own `--headless --dump-dom` (no webdriver, no browser download). A self-test
script (tests/report/selftest.js) is added to a copy of the page; it waits for the figures, counts
their marks, fires real mouse events and moves every slider and selector, and writes what it saw
into the page, which `--dump-dom` returns. Network is pointed at a closed port, so a figure that
needed the internet would not draw.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from superpose.experiments import RunContext, get_experiment, run_experiment
from superpose.report import render, render_sweep
from superpose.store import Outcome, RunStore, artifacts_dir

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (Debian: apt-get install -y chromium; .ci/run installs it)",
)
SELFTEST = Path(__file__).with_name("selftest.js")
ARTIFACTS = Path(os.environ.get("SUPERPOSE_ARTIFACTS", Path(__file__).parents[2] / "artifacts"))
REMOTE = re.compile(r"""(?:src|href|url)\s*[=(]\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)

#: tiny forms of the experiments that have interactive figures: real runs, seconds each
TINY = {
    "tms-basic": {"model.train.steps": 200, "model.features.sparsity": [0.0, 0.9, 0.99]},
    "phase-2x1": {
        "n_importance": 4,
        "n_density": 4,
        "exact.seeds": 2,
        "exact.steps": 30,
        "mc_samples": 1000,
        "check_train": None,
    },
    "nonuniform-pentagon": {
        "n_density": 3,
        "exact.seeds": 2,
        "exact.steps": 60,
        "continue_steps": 10,
    },
    "cis2-errors": {
        "net.width": 200,
        "net.circuits": 20,
        "net.layers": 3,
        "check_width": 400,
        "batch": 16,
        "active": [1, 2],
    },
}


def chromium(url: str, *args: str, timeout: float = 120) -> str:
    """Run headless Chromium on `url` and return its stdout; the whole process group is killed
    afterwards, so no renderer outlives the test."""
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"superpose-chromium-{os.getpid()}"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--proxy-server=http://127.0.0.1:9",  # offline: any network request fails
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
        *args,
        url,
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    return out


def selftest(index: Path) -> dict:
    """Open a copy of `index` with the self-test added; return what the self-test recorded."""
    shutil.copyfile(SELFTEST, index.parent / SELFTEST.name)
    page = index.with_name("selftest.html")
    page.write_text(
        index.read_text().replace("</body>", f"<script src='{SELFTEST.name}'></script></body>")
    )
    dom = chromium(page.as_uri(), "--virtual-time-budget=60000", "--dump-dom")
    found = re.search(r'<pre id="sp-selftest">(.*?)</pre>', dom, re.S)
    assert found, f"the self-test wrote no result; page ends with: {dom[-500:]!r}"
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    for name, override in TINY.items():
        exp = get_experiment(name)
        cfg = exp.quick.replace(**override)
        rec = run_experiment(exp, RunContext(out / name, progress=False), cfg)
        assert rec["status"] == "ok", rec.get("traceback")
    return render(out)


@pytest.fixture(scope="module")
def explorer(tmp_path_factory) -> Path:
    """A run store as `superpose sweep` leaves it: 3×2 grid × 2 seeds, artifacts folders."""
    root = tmp_path_factory.mktemp("store")
    store = root / "runs.db"
    grid = [
        {"lr": lr, "n_hidden": h, "seed": s}
        for lr in (0.001, 0.01, 0.1)
        for h in (2, 5)
        for s in (0, 1)
    ]
    with RunStore(store, writer=True, create=True) as db:
        db.claim("test-sweep", {"description": "explorer test"})
        db.plan([(f"k{i:03d}", i, p, p) for i, p in enumerate(grid)])
        for i, p in enumerate(grid):
            folder = artifacts_dir(store) / f"k{i:03d}"
            folder.mkdir(parents=True)
            (folder / "metrics.txt").write_text(str(p))
            t = time.time()
            metrics = {"loss": p["lr"] * p["n_hidden"] + 0.01 * p["seed"], "steps": 100 * (i + 1)}
            outcome = Outcome(
                status="ok", metrics=metrics, started=t, finished=t, artifact=str(folder)
            )
            db.finish(f"k{i:03d}", outcome)
    return render_sweep(store, root / "report")


def test_figures_need_their_data_and_name_what_is_missing():
    from superpose.plots.interactive import figures_for

    rec = {"name": "phase-2x1", "status": "ok", "data": {"importance": [1.0], "density": [0.1]}}
    assert figures_for(rec) == ([], None)  # an older run without the data: static PNGs only
    rec["data"].update(empirical=[[1]], theoretical=[[9]], best_loss=[[0.1]])
    figs, problem = figures_for(rec)  # phase 9 does not exist: said, not drawn wrong
    assert figs == [] and "IndexError" in problem
    assert figures_for({**rec, "status": "error"}) == ([], None)


def test_report_references_no_remote_url(report, explorer):
    for index in (report, explorer):
        text = index.read_text()
        assert not REMOTE.findall(text), REMOTE.findall(text)[:3]
        scripts = re.findall(r"<script src='([^']+)'", text)
        assert scripts == ["assets/plotly.min.js", "assets/interactive.js"]
        assert all((index.parent / s).is_file() for s in scripts)
    # the summary table still comes first, and each experiment's claims precede its figures
    text = report.read_text()
    assert text.index("<h2>Summary</h2>") < text.index("class='sp-figure'")
    for name in TINY:
        section = text[text.index(f"<h2 id='{name}'>") :]
        assert section.index("<th>claim</th>") < section.index("class='sp-figure'")


@needs_chromium
def test_report_figures_draw_and_respond_in_chromium(report):
    result = selftest(report)
    assert result["errors"] == []
    figs = {f["id"]: f for f in result["figures"]}
    expected = {
        "tms-basic-linear": ("heatmap", "bar"),
        "tms-basic-relu_output": ("heatmap", "bar"),
        "nonuniform-pentagon-geometry": ("scatter",),
        "phase-2x1-phase": ("heatmap",),
        "cis2-errors-profiles": ("scatter",),
    }
    assert set(figs) == set(expected)
    for fid, kinds in expected.items():
        f = figs[fid]
        for kind in kinds:
            assert f["marks"][kind] > 0, (fid, kind, f["marks"])
            assert f["hover"].get(kind), (fid, kind, f["hover"])
        for c in f["controls"]:  # every slider / selector redraws the figure
            assert c["changed"] and c["marks"] > 0, (fid, c)
            assert c["shown_before"] != c["shown_after"], (fid, c)
    tms = figs["tms-basic-relu_output"]
    assert re.search(r"WᵀW\[\d+, \d+\] = -?\d", tms["hover"]["heatmap"])
    assert all(w in tms["hover"]["bar"] for w in ("norm", "D_i", "interference"))
    assert tms["controls"][0]["options"] == len(TINY["tms-basic"]["model.features.sparsity"])
    assert "theory" in figs["phase-2x1-phase"]["hover"]["heatmap"]
    assert "W=[1,-1]" in figs["phase-2x1-phase"]["hover"]["heatmap"]  # a candidate's loss
    assert "angle" in figs["nonuniform-pentagon-geometry"]["hover"]["scatter"]
    assert [c["label"] for c in figs["cis2-errors-profiles"]["controls"]] == [
        "active circuits z",
        "error part",
    ]
    # the summary, as a reader first sees it, kept as a CI artifact
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-summary.png"
    shot.unlink(missing_ok=True)
    chromium(report.as_uri(), f"--screenshot={shot}", "--virtual-time-budget=20000")
    assert shot.is_file() and shot.stat().st_size > 10_000


@needs_chromium
def test_explorer_heatmap_hover_click_and_selectors_in_chromium(explorer):
    result = selftest(explorer)
    assert result["errors"] == []
    (f,) = result["figures"]
    assert f["kind"] == "explorer" and f["marks"]["heatmap"] == 1
    # hover shows the cell's runs: their keys and metrics
    assert re.search(r"2 run\(s\).*run k\d{3}.*loss=", f["hover"]["heatmap"])
    assert [c["label"] for c in f["controls"]] == ["x axis", "y axis", "metric"]
    assert all(c["changed"] for c in f["controls"]), f["controls"]
    # a click lists the cell's runs with links to each run's table row and artifacts folder
    assert f["clicked_runs"] == 2, f
    links = f["clicked_links"]
    assert sum(a.startswith("#run-k") for a in links) == 2
    arts = [a for a in links if not a.startswith("#")]
    assert len(arts) == 2
    assert all((explorer.parent / a / "metrics.txt").is_file() for a in arts)
