// Browser self-test of a superpose report, added to a copy of the page by tests/report/test_browser.py.
// For every interactive figure it counts the drawn marks, moves the mouse over them (real
// mousemove events where a reader's pointer would be), changes every slider and selector, and on
// the explorer clicks a cell; the results go into <pre id="sp-selftest"> for `chromium --dump-dom`.
(async function () {
  "use strict";
  const out = { figures: [], errors: [] };
  window.addEventListener("error", (e) => out.errors.push(String(e.message)));
  const settle = () => new Promise((res) => setTimeout(res, 120));
  const SELECTORS = {
    heatmap: ".hm image",
    bar: ".barlayer .point path",
    scatter: ".scatterlayer .points path",
    line: ".scatterlayer path.js-line",
  };
  const all = (gd, sel) => Array.from(gd.querySelectorAll(sel));
  const marks = (gd) => Object.values(SELECTORS).flatMap((s) => all(gd, s));
  const area = (e) => { const r = e.getBoundingClientRect(); return r.width * r.height; };
  const signature = (gd) =>
    marks(gd).map((e) => e.getAttribute("d") || (e.href && e.href.baseVal) || "").join("#") +
    all(gd, ".cbaxis text, .xtick text, .ytick text").map((e) => e.textContent).join("#");

  function at(target, type) {
    target.scrollIntoView({ block: "center" });
    const r = target.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    if (!hit) return false;
    hit.dispatchEvent(new MouseEvent(type, { clientX: x, clientY: y, bubbles: true, cancelable: true, view: window, buttons: type === "mousedown" ? 1 : 0 }));
    return true;
  }

  async function hover(gd, kind) {
    const els = all(gd, SELECTORS[kind]).filter((e) => area(e) > 4);
    if (!els.length) return null;
    const target = els.reduce((a, b) => (area(b) > area(a) ? b : a));
    at(target, "mousemove");
    await settle();
    const text = (gd.querySelector(".hoverlayer") || {}).textContent || "";
    return { text, target };
  }

  try {
    await window.spReady;
    for (const f of window.spFigures) {
      const root = document.getElementById(f.id);
      const gd = root.querySelector(".sp-plot");
      const r = { id: f.id, kind: f.kind, marks: {}, hover: {}, controls: [] };
      for (const [kind, sel] of Object.entries(SELECTORS)) r.marks[kind] = all(gd, sel).length;
      for (const kind of ["heatmap", "bar", "scatter"]) {
        const h = await hover(gd, kind);
        if (h) r.hover[kind] = h.text;
      }
      if (f.kind === "explorer") {
        const h = (await hover(gd, "heatmap")) || (await hover(gd, "scatter"));
        if (h) {
          at(h.target, "mousedown");
          at(h.target, "mouseup");
          await settle();
        }
        const rows = root.querySelectorAll(".sp-detail tr.sp-run");
        r.clicked_runs = rows.length;
        r.clicked_links = Array.from(root.querySelectorAll(".sp-detail a")).map((a) => a.getAttribute("href"));
      }
      for (const input of root.querySelectorAll(".sp-controls select, .sp-controls input")) {
        const before = signature(gd);
        const shown = (input.parentElement.querySelector(".sp-value") || {}).textContent;
        if (input.tagName === "SELECT") input.selectedIndex = input.options.length - 1;
        else input.value = input.max;
        input.dispatchEvent(new Event(input.tagName === "SELECT" ? "change" : "input", { bubbles: true }));
        await settle();
        r.controls.push({
          label: input.parentElement.firstChild.textContent.trim(),
          options: input.tagName === "SELECT" ? input.options.length : Number(input.max) + 1,
          changed: signature(gd) !== before,
          marks: marks(gd).length,
          shown_before: shown,
          shown_after: (input.parentElement.querySelector(".sp-value") || {}).textContent,
        });
      }
      out.figures.push(r);
    }
  } catch (e) {
    out.errors.push(String((e && e.stack) || e));
  }
  const pre = document.createElement("pre");
  pre.id = "sp-selftest";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
