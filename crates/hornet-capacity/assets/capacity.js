/* hornet capacity page: draws throughput and latency against the offered load from the inline
   data blob with uPlot, and with ?selftest in the URL checks that every chart drew something and
   writes its verdict into a pre element at the end of the page. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("capacity-data").textContent);
  var H = 300;
  var plots = [];
  var COLORS = { blue: "#2563eb", red: "#dc2626", green: "#16a34a", amber: "#d97706", gray: "#6b7280", purple: "#7c3aed" };
  var GRID = { stroke: "#edf0f3", width: 1 };
  var TICKS = { stroke: "#d5dae0", width: 1, size: 4 };

  function fmtN(v) {
    if (v == null || !isFinite(v)) return "-";
    var a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  function zeroBased(u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; }
  function series(label, color, unit, opts) {
    var s = {
      label: label, stroke: color, width: 2, spanGaps: true, points: { show: true, size: 6 },
      value: function (u, v) { return v == null ? "-" : fmtN(v) + (unit || ""); }
    };
    for (var k in opts || {}) s[k] = opts[k];
    return s;
  }
  function yAxis(label) {
    return { label: label, size: 60, labelSize: 18, grid: GRID, ticks: TICKS,
      values: function (u, splits) { return splits.map(fmtN); } };
  }
  function xOpts(ser, yLabel) {
    return {
      series: [{ label: "offered (" + D.unit + ")", value: function (u, v) { return fmtN(v); } }].concat(ser),
      scales: { x: { time: false, range: function (u, min, max) { return min === max ? [0, max * 1.2 + 1] : [0, max * 1.05]; } }, y: { range: zeroBased } },
      axes: [{ label: "offered load (" + D.unit + ")", labelSize: 18, grid: GRID, ticks: TICKS, values: function (u, s) { return s.map(fmtN); } }, yAxis(yLabel)]
    };
  }
  var P = D.points;
  var X = P.map(function (p) { return p.offered; });
  var BUILD = {
    throughput: function () {
      var data = [X, P.map(function (p) { return p.achieved; })];
      var ser = [series("achieved", COLORS.blue, " " + D.throughput_unit)];
      if (D.model === "open") {
        data.push(X.slice());
        ser.push(series("offered", COLORS.gray, "/s", { width: 1, dash: [4, 3], points: { show: false } }));
      } else if (D.usl) {
        data.push(X.map(function (n) { return D.usl.lambda * n / (1 + D.usl.sigma * (n - 1) + D.usl.kappa * n * (n - 1)); }));
        ser.push(series("USL fit", COLORS.purple, " " + D.throughput_unit, { width: 1, dash: [4, 3], points: { show: false } }));
      }
      return [data, xOpts(ser, D.throughput_unit)];
    },
    latency: function () {
      return [[X, P.map(function (p) { return p.p50; }), P.map(function (p) { return p.p95; }), P.map(function (p) { return p.p99; })],
        xOpts([series("p50", COLORS.green, " ms"), series("p95", COLORS.amber, " ms"), series("p99", COLORS.red, " ms")], "ms")];
    }
  };
  var els = document.querySelectorAll("[data-chart]");
  Array.prototype.forEach.call(els, function (el) {
    try {
      var spec = BUILD[el.getAttribute("data-chart")]();
      var opts = spec[1];
      opts.width = Math.max(240, el.clientWidth);
      opts.height = H;
      plots.push({ el: el, u: new uPlot(opts, spec[0], el) });
    } catch (e) {
      console.error("chart " + el.getAttribute("data-chart") + ": " + (e && e.stack || e));
    }
  });
  function selftest() {
    var problems = [];
    Array.prototype.forEach.call(els, function (el) {
      var canvas = el.querySelector("canvas");
      if (!canvas) { problems.push(el.getAttribute("data-chart") + ": no canvas"); return; }
      var px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data, drawn = false;
      for (var i = 3; i < px.length; i += 4) { if (px[i] !== 0) { drawn = true; break; } }
      if (!drawn) problems.push(el.getAttribute("data-chart") + ": nothing drawn");
    });
    problems = problems.concat(window.__hornetErrors || []);
    var pre = document.createElement("pre");
    pre.id = "selftest";
    pre.textContent = problems.length ? "FAIL: " + problems.join("; ") : "ok " + plots.length + " charts";
    document.body.appendChild(pre);
  }
  /* uPlot draws on the next animation frame: check after it, as the run report does. */
  if (/[?&]selftest(=|&|$)/.test(location.search)) {
    setTimeout(selftest, 200);
  }
})();
