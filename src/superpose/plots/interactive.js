// superpose report runtime: draws every .sp-figure and .sp-explorer from the JSON spec inside it.
// Offline: needs only plotly.min.js, loaded before this file from the same folder.
// window.spFigures lists what was drawn; window.spReady resolves when all of it is on screen.
(function () {
  "use strict";
  const CONFIG = { displaylogo: false, responsive: true };

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // A figure: variants keyed by the controls' indices joined with "|".
  function drawFigure(root) {
    const spec = JSON.parse(root.querySelector(".sp-spec").textContent);
    const plot = root.querySelector(".sp-plot");
    const bar = root.querySelector(".sp-controls");
    const inputs = spec.controls.map((c) => {
      const label = el("label", {}, c.label + " ");
      let input;
      if (c.kind === "select") {
        input = el("select");
        c.options.forEach((o, i) => input.appendChild(el("option", { value: String(i) }, o)));
      } else {
        input = el("input", { type: "range", min: "0", max: String(c.options.length - 1), step: "1", value: "0" });
      }
      const shown = el("span", { class: "sp-value" }, c.options[0]);
      label.appendChild(input);
      label.appendChild(shown);
      bar.appendChild(label);
      return { input, shown, options: c.options };
    });
    const key = () => inputs.map((c) => c.input.value).join("|");
    const show = () => {
      inputs.forEach((c) => (c.shown.textContent = c.options[Number(c.input.value)]));
      const v = spec.variants[key()];
      return Plotly.react(plot, v.data, v.layout, CONFIG);
    };
    inputs.forEach((c) => {
      c.input.addEventListener("input", show);
      c.input.addEventListener("change", show);
    });
    return show();
  }

  function mean(xs) {
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  }

  function fmt(v) {
    return typeof v === "number" ? Number(v.toPrecision(4)).toString() : String(v);
  }

  // The run-store explorer: two axes (or one) and a metric; every cell lists its runs.
  function drawExplorer(root) {
    const spec = JSON.parse(root.querySelector(".sp-spec").textContent);
    const plot = root.querySelector(".sp-plot");
    const bar = root.querySelector(".sp-controls");
    const detail = root.querySelector(".sp-detail");
    const axes = Object.keys(spec.axes);
    const pick = (label, options, value) => {
      const l = el("label", {}, label + " ");
      const s = el("select", { name: label });
      options.forEach((o) => s.appendChild(el("option", { value: o }, o)));
      s.value = value;
      l.appendChild(s);
      bar.appendChild(l);
      return s;
    };
    const plain = axes.filter((a) => a !== "seed");
    const xs = pick("x axis", axes, plain[0] || axes[0]);
    const ys = pick("y axis", ["(none: lines)"].concat(axes), plain[1] || "(none: lines)");
    const ms = pick("metric", spec.metrics, spec.metrics[0]);
    let cells = {};

    const runLine = (r) => {
      const m = Object.entries(r.metrics).slice(0, 8).map(([k, v]) => `${k}=${fmt(v)}`).join(", ");
      return `run ${r.key.slice(0, 12)} (#${r.idx}): ${m}`;
    };

    const show = () => {
      const xa = xs.value, ya = ys.value === "(none: lines)" ? null : ys.value, m = ms.value;
      const xv = spec.axes[xa], yv = ya ? spec.axes[ya] : [""];
      cells = {};
      for (const r of spec.runs) {
        if (r.status !== "ok" || !(m in r.metrics)) continue;
        const k = r.point[xa] + "\u0000" + (ya ? r.point[ya] : "");
        (cells[k] = cells[k] || []).push(r);
      }
      const cell = (x, y) => cells[x + "\u0000" + y] || [];
      const text = (rs) => rs.length
        ? `${rs.length} run(s)<br>` + rs.slice(0, 6).map(runLine).join("<br>") + (rs.length > 6 ? "<br>…" : "")
        : "no run";
      let data, layout;
      if (ya) {
        const z = yv.map((y) => xv.map((x) => { const rs = cell(x, y); return rs.length ? mean(rs.map((r) => r.metrics[m])) : null; }));
        const t = yv.map((y) => xv.map((x) => text(cell(x, y))));
        data = [{ type: "heatmap", x: xv, y: yv, z, text: t, colorscale: "Viridis", colorbar: { title: { text: m } },
          hovertemplate: `${xa}=%{x}<br>${ya}=%{y}<br>${m} (mean) = %{z:.4g}<br>%{text}<extra></extra>` }];
        layout = { xaxis: { type: "category", title: { text: xa } }, yaxis: { type: "category", title: { text: ya } } };
      } else {
        const pts = xv.map((x) => cell(x, ""));
        const y = pts.map((rs) => (rs.length ? mean(rs.map((r) => r.metrics[m])) : null));
        const sd = pts.map((rs, i) => (rs.length ? Math.sqrt(mean(rs.map((r) => (r.metrics[m] - y[i]) ** 2))) : null));
        data = [{ type: "scatter", mode: "lines+markers", x: xv, y, error_y: { type: "data", array: sd, visible: true },
          text: pts.map(text), hovertemplate: `${xa}=%{x}<br>${m} (mean ± std) = %{y:.4g}<br>%{text}<extra></extra>` }];
        layout = { xaxis: { type: "category", title: { text: xa } }, yaxis: { title: { text: m } } };
      }
      Object.assign(layout, { height: 460, margin: { t: 20, l: 110, r: 20, b: 60 },
        hoverlabel: { font: { family: "monospace", size: 11 }, align: "left" } });
      return Plotly.react(plot, data, layout, CONFIG);
    };

    const list = (x, y) => {
      const rs = cells[x + "\u0000" + y] || [];
      detail.innerHTML = "";
      detail.appendChild(el("h3", {}, `${xs.value}=${x}` + (y ? `, ${ys.value}=${y}` : "") + `: ${rs.length} run(s)`));
      const tb = el("table");
      const head = el("tr");
      ["key", "#", ms.value, "artifacts", "all metrics"].forEach((h) => head.appendChild(el("th", {}, h)));
      tb.appendChild(head);
      for (const r of rs) {
        const tr = el("tr", { class: "sp-run" });
        const k = el("td");
        k.appendChild(el("a", { href: "#run-" + r.key }, r.key));
        tr.appendChild(k);
        tr.appendChild(el("td", {}, String(r.idx)));
        tr.appendChild(el("td", {}, fmt(r.metrics[ms.value])));
        const a = el("td");
        if (r.artifact) a.appendChild(el("a", { href: r.artifact }, "folder"));
        tr.appendChild(a);
        tr.appendChild(el("td", {}, Object.entries(r.metrics).map(([k2, v]) => `${k2}=${fmt(v)}`).join(", ")));
        tb.appendChild(tr);
      }
      detail.appendChild(tb);
    };

    [xs, ys, ms].forEach((s) => s.addEventListener("change", show));
    return show().then((gd) => {
      gd.on("plotly_click", (ev) => { const p = ev.points[0]; list(p.x, ys.value === "(none: lines)" ? "" : p.y); });
      return gd;
    });
  }

  window.spFigures = [];
  const pending = [];
  for (const root of document.querySelectorAll(".sp-figure, .sp-explorer")) {
    const kind = root.classList.contains("sp-explorer") ? "explorer" : "figure";
    window.spFigures.push({ id: root.id, kind });
    pending.push((kind === "explorer" ? drawExplorer : drawFigure)(root));
  }
  window.spReady = Promise.all(pending);
})();
