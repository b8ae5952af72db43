// hornet web UI: renders the snapshots of /api/stream, draws the history with uPlot, and sends
// the controls to the JSON API (docs/web-ui.md). No framework, no build step.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  const num = (v, d) => (typeof v === "number" && isFinite(v) ? v.toFixed(d) : "–");
  const int = (v) => (typeof v === "number" ? Math.round(v).toLocaleString("en") : "–");

  let snap = null;
  let run = -1;
  let sortKey = "requests";
  let sortDir = -1;
  const hist = { t: [], rps: [], fails: [], p50: [], p95: [], p99: [], vus: [] };
  const charts = {};

  // ---- API ----
  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    let data = null;
    try { data = await r.json(); } catch (_) { data = null; }
    if (!r.ok) throw new Error((data && data.error) || r.status + " " + r.statusText);
    return data;
  }
  function say(text, ok) {
    const m = $("message");
    m.textContent = text || "";
    m.style.color = ok ? "var(--ok)" : "";
  }
  async function act(fn, okText) {
    try { await fn(); say(okText, true); } catch (e) { say(e.message, false); }
  }

  // ---- tabs ----
  const tabs = Array.from(document.querySelectorAll("[role=tab]"));
  function show(tab) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (tab.id === "tab-charts") drawCharts(true);
  }
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => show(t));
    t.addEventListener("keydown", (e) => {
      const d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
      if (d) { const n = tabs[(i + d + tabs.length) % tabs.length]; n.focus(); show(n); }
    });
  });

  // ---- controls ----
  $("start-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const mode = document.querySelector("input[name=mode]:checked").value;
    const body = {};
    if (mode !== "scripted") {
      body[mode] = Number($(mode).value);
      const ramp = $("ramp").value, dur = $("duration").value;
      if (ramp !== "") body.ramp_s = Number(ramp);
      if (dur !== "") body.duration_s = Number(dur);
    }
    act(() => api("POST", "/api/start", body), "Started");
  });
  $("edit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = {};
    for (const [id, key] of [["new-rate", "rate"], ["new-users", "users"], ["factor", "factor"]]) {
      if ($(id).value !== "") body[key] = Number($(id).value);
    }
    act(() => api("POST", "/api/load", body), "Change sent; applied within a second");
  });
  $("stop").addEventListener("click", () => act(() => api("POST", "/api/stop"), "Stopping"));
  $("reset").addEventListener("click", () => act(() => api("POST", "/api/reset"), "Statistics reset"));

  function controls(s) {
    const st = s.state;
    const idle = st === "ready" || st === "stopped";
    const live = st === "running" || st === "starting";
    for (const e of $("start-form").elements) e.disabled = !idle;
    for (const e of $("edit-form").elements) e.disabled = !live;
  }

  // ---- statistics ----
  const cols = ["type", "name", "requests", "failures", "median_ms", "p90_ms", "p99_ms", "avg_ms", "min_ms", "max_ms", "avg_size", "current_rps", "current_failures_per_s"];
  function cells(tr, r, folded) {
    for (const k of cols) {
      const v = r[k];
      let t;
      if (k === "type" || k === "name") t = v || "";
      else if (k === "requests" || k === "failures") t = int(v);
      else if (folded && (k === "median_ms" || k === "p90_ms" || k === "p99_ms")) t = "–";
      else if (k === "avg_size") t = int(v);
      else if (k.startsWith("current")) t = num(v, 1);
      else t = num(v, k === "min_ms" || k === "max_ms" ? 2 : 1);
      tr.appendChild(el("td", t));
    }
  }
  document.querySelectorAll("#stats-table th[data-key]").forEach((th) => {
    th.tabIndex = 0;
    const sort = () => {
      const k = th.dataset.key;
      sortDir = sortKey === k ? -sortDir : (k === "name" || k === "type" ? 1 : -1);
      sortKey = k;
      if (snap) renderStats(snap);
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
  function renderStats(s) {
    const rows = (s.stats || []).slice();
    rows.sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      if (typeof x === "string") return sortDir * x.localeCompare(y);
      return sortDir * ((x || 0) - (y || 0));
    });
    const body = document.createElement("tbody");
    for (const r of rows) { const tr = el("tr"); cells(tr, r, false); body.appendChild(tr); }
    if (s.other) { const tr = el("tr", null, "folded"); cells(tr, s.other.row, true); body.appendChild(tr); }
    $("stats-table").replaceChild(body, $("stats-table").tBodies[0]);
    const foot = document.createElement("tfoot");
    if (s.total && (s.total.requests > 0 || rows.length)) { const tr = el("tr"); cells(tr, s.total, false); foot.appendChild(tr); }
    $("stats-table").replaceChild(foot, $("stats-table").tFoot);
    document.querySelectorAll("#stats-table th[data-key]").forEach((th) => {
      if (th.dataset.key === sortKey) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
    $("fold-note").textContent = s.other
      ? `Showing the ${rows.length} endpoints with the most requests out of ${s.endpoints}; the other ${s.other.endpoints} are folded into one row (its percentiles are not computed).`
      : "";
  }

  // ---- other tabs ----
  function fill(tableId, rows, render) {
    const body = document.createElement("tbody");
    for (const r of rows) { const tr = el("tr"); render(r).forEach((c) => tr.appendChild(c)); body.appendChild(tr); }
    $(tableId).replaceChild(body, $(tableId).tBodies[0]);
  }
  function renderFailures(s) {
    const f = s.failures || { groups: [], folded: 0 };
    fill("failures-table", f.groups, (g) => [el("td", int(g.count)), el("td", g.endpoint || "(outside requests)"), el("td", g.kind), el("td", g.message)]);
    $("failures-note").textContent = f.groups.length === 0 ? "No failures." : f.folded ? `${f.folded} more groups not shown.` : "";
  }
  function traceCell(t) {
    const td = el("td");
    const code = el("code", t.trace_id);
    if (t.link && /^https?:\/\//i.test(t.link)) {
      const a = el("a");
      a.href = t.link;
      a.target = "_blank";
      a.rel = "noopener";
      a.appendChild(code);
      td.appendChild(a);
    } else td.appendChild(code);
    return td;
  }
  function renderSlowest(s) {
    const items = (s.traces && s.traces.items) || [];
    fill("slowest-table", items, (t) => [
      el("td", t.endpoint), el("td", num(t.latency_ms, 1)),
      el("td", t.status !== null && t.status !== undefined ? String(t.status) : (t.error || "–"), t.failed ? "bad" : null),
      el("td", num(t.t_s, 1)), el("td", t.slowest && t.failed ? "slowest, failed" : t.slowest ? "slowest" : "failed"),
      el("td", t.sampled ? "yes" : "no"), traceCell(t),
    ]);
    $("slowest-note").textContent = items.length === 0
      ? "No traced requests: run with config.tracing or --trace to keep the trace ids of the slowest and failed requests."
      : "Per endpoint, the 5 slowest requests and the first 5 failed ones, with the trace id each was sent with.";
  }
  function renderChecks(s) {
    const c = s.checks;
    const items = (c && c.items) || [];
    fill("checks-table", items, (k) => [el("td", k.name), el("td", k.ok ? "pass" : "fail", k.ok ? "ok" : "bad"), el("td", k.strict ? "yes" : "no"), el("td", k.detail)]);
    let note = !c ? "No checks evaluated yet." : items.length === 0 ? "The script has no checks." : (c.final ? "Final verdicts." : `Live verdicts on the figures at ${num(c.evaluated_at_s, 0)} s.`);
    if (c && c.apdex) note += ` Apdex ${num(c.apdex.score, 2)} (T = ${c.apdex.threshold_ms} ms, ${c.apdex.rating}).`;
    $("checks-note").textContent = note;
    const metrics = s.processor_metrics || [];
    fill("processor-table", metrics, (m) => [el("td", m.name), el("td", m.kind), el("td", m.count === null ? "–" : int(m.count)), el("td", num(m.rate, 2)), el("td", num(m.p50, 2)), el("td", num(m.p95, 2)), el("td", num(m.p99, 2)), el("td", num(m.max, 2))]);
    $("processor-table").hidden = metrics.length === 0;
    $("processor-note").textContent = metrics.length === 0 ? "" : "Reported by the processor with events.emit, under the names ensure uses; histograms in the unit the processor gave.";
  }
  function renderWorkers(s) {
    const rows = s.workers || [];
    fill("workers-table", rows, (w) => [el("td", w.address ? `${w.name} (${w.address})` : w.name), el("td", w.state), el("td", num(100 * w.share, 1) + " %"), el("td", int(w.users)), el("td", num(w.rps, 1)), el("td", int(w.requests)), el("td", num(w.cpu_percent, 1)), el("td", num(w.lag_p99_ms, 2))]);
    $("workers-note").textContent = rows.length > 1 || (rows[0] && rows[0].address) ? `${rows.length} workers; each runs its share (execution segment) of the load. RPS, users, CPU and lag are from its latest second.` : "This machine's engine. A distributed run (hornet controller, --local-workers) lists each worker here.";
  }
  function renderHeader(s) {
    $("s-state").textContent = s.state + (s.final ? " (final figures)" : "");
    $("s-load").textContent = (s.load || "–") + (s.factor && s.factor !== 1 ? ` ×${num(s.factor, 2)}` : "");
    $("s-users").textContent = int(s.user_count || 0);
    $("s-rps").textContent = num(s.final ? s.total_rps : s.current_rps || 0, 1);
    $("s-fail").textContent = num(100 * (s.fail_ratio || 0), 1) + " %";
    $("s-elapsed").textContent = num(s.elapsed_s || 0, 0) + " s";
    if (s.message) say(s.message, false);
  }

  // ---- charts ----
  function chartOpts(title, series, height) {
    const w = Math.max(320, ($("p-charts").clientWidth || 800) - 8);
    return {
      title, width: w, height,
      scales: { x: { time: false } },
      axes: [{ label: "s" }, {}],
      series: [{ label: "t (s)" }].concat(series.map(([label, stroke]) => ({ label, stroke, width: 1.5 }))),
    };
  }
  function drawCharts(resize) {
    if ($("p-charts").hidden || typeof uPlot === "undefined") return;
    const sets = {
      "chart-rps": [[["RPS", "#17733a"], ["Failures/s", "#b3261e"]], [hist.t, hist.rps, hist.fails]],
      "chart-rt": [[["p50", "#1f5fbf"], ["p95", "#b35c00"], ["p99", "#b3261e"]], [hist.t, hist.p50, hist.p95, hist.p99]],
      "chart-vus": [[["VUs", "#5b2a86"]], [hist.t, hist.vus]],
    };
    for (const [id, [series, data]] of Object.entries(sets)) {
      if (!charts[id]) { charts[id] = new uPlot(chartOpts("", series, 220), data, $(id)); continue; }
      if (resize) charts[id].setSize({ width: Math.max(320, $("p-charts").clientWidth - 8), height: 220 });
      charts[id].setData(data);
    }
  }
  async function loadHistory() {
    try {
      const h = await api("GET", "/api/history");
      for (const k of Object.keys(hist)) hist[k] = (h[k] || []).slice();
      run = h.run;
      drawCharts(false);
    } catch (e) { say(e.message, false); }
  }
  function append(p) {
    if (!p) return;
    if (hist.t.length && p[0] <= hist.t[hist.t.length - 1]) return;
    const keys = ["t", "rps", "fails", "p50", "p95", "p99", "vus"];
    keys.forEach((k, i) => hist[k].push(p[i]));
    drawCharts(false);
  }

  // ---- snapshots ----
  function render(s) {
    snap = s;
    if (s.run !== run) {
      for (const k of Object.keys(hist)) hist[k] = [];
      run = s.run;
      loadHistory();
    } else {
      append(s.point);
    }
    renderHeader(s);
    controls(s);
    renderStats(s);
    renderFailures(s);
    renderSlowest(s);
    renderChecks(s);
    renderWorkers(s);
  }
  async function init() {
    try {
      const st = await api("GET", "/api/state");
      $("s-target").textContent = st.target || "–";
      document.title = "hornet · " + (st.script || "web UI");
    } catch (e) { say(e.message, false); }
    await loadHistory();
    const es = new EventSource("/api/stream");
    es.addEventListener("snapshot", (e) => {
      try { render(JSON.parse(e.data)); } catch (err) { say("bad snapshot: " + err.message, false); }
    });
    es.onerror = () => say("connection lost; retrying…", false);
    es.onopen = () => { if ($("message").textContent.startsWith("connection lost")) say("", true); };
  }
  init();
})();
