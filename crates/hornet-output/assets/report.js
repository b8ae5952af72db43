/* hornet HTML report: draws the charts from the inline data blob with uPlot, makes tables
   sortable, and with ?selftest in the URL checks the drawing and writes its verdict into a
   pre element at the end of the page. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("hornet-data").textContent);
  var H = 260;
  var plots = [];
  var COLORS = {
    blue: "#2563eb", red: "#dc2626", green: "#16a34a", orange: "#ea580c", purple: "#7c3aed",
    teal: "#0d9488", gray: "#6b7280", amber: "#d97706", pink: "#db2777", sky: "#0284c7"
  };
  var GRID = { stroke: "#edf0f3", width: 1 };
  var TICKS = { stroke: "#d5dae0", width: 1, size: 4 };
  var TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* Elapsed seconds as m:ss or h:mm:ss. */
  function fmtT(s) {
    if (s == null || !isFinite(s)) return "-";
    s = Math.round(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(x) : m + ":" + pad(x);
  }
  /* A number with a precision that suits its magnitude (as the terminal summary). */
  function fmtN(v) {
    if (v == null || !isFinite(v)) return "-";
    var a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  function fmtAxis(v) {
    if (v == null) return "";
    var a = Math.abs(v);
    if (a >= 1e6) return +(v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return +(v / 1e3).toFixed(1) + "k";
    return String(+v.toFixed(3));
  }
  /* The percentile at x = 1 / (1 - p): "50%", "99.9%". */
  function fmtP(x) {
    if (x == null || !isFinite(x) || x < 1) return "-";
    var p = (1 - 1 / x) * 100;
    var d = Math.max(0, Math.ceil(Math.log10(x) - 1e-9) - 1);
    return (+p.toFixed(Math.min(d + 1, 6))) + "%";
  }
  function zeroBased(u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; }

  function series(label, color, unit, opts) {
    var s = {
      label: label, stroke: color, width: 1.5, spanGaps: false,
      value: function (u, v) { return v == null ? "-" : fmtN(v) + (unit || ""); }
    };
    for (var k in opts || {}) s[k] = opts[k];
    return s;
  }
  function yAxis(label, scale, side) {
    var a = {
      label: label, size: 56, labelSize: 18, grid: side ? { show: false } : GRID, ticks: TICKS,
      values: function (u, splits) { return splits.map(fmtAxis); }
    };
    if (scale) a.scale = scale;
    if (side) a.side = side;
    return a;
  }
  var timeSync = uPlot.sync("hornet-timeline");
  function timeOpts(ser, axes, scales) {
    /* A single point gets a one-second-wide axis rather than uPlot's default padding. */
    var sc = { x: { time: false, range: function (u, min, max) { return min === max ? [min, min + 1] : [min, max]; } } };
    for (var k in scales || {}) sc[k] = scales[k];
    return {
      series: [{ label: "elapsed", value: function (u, v) { return fmtT(v); } }].concat(ser),
      axes: [{ grid: GRID, ticks: TICKS, incrs: TIME_INCRS, space: 60, values: function (u, s) { return s.map(fmtT); } }].concat(axes),
      scales: sc,
      cursor: { sync: { key: timeSync.key, setSeries: false } }
    };
  }
  /* Percentile-curve options: x = 1/(1-p) on a log scale, ticks at 0, 50, 90, 99, 99.9 ... %. */
  function distOpts(ser, yLabel) {
    return {
      series: [{ label: "percentile", value: function (u, v) { return fmtP(v); } }].concat(ser),
      scales: { x: { time: false, distr: 3, log: 10 }, y: { range: zeroBased } },
      axes: [
        {
          grid: GRID, ticks: TICKS, space: 40,
          splits: function (u, i, min, max) {
            var out = [];
            for (var v = 1; v <= max * 1.000001; v *= 10) out.push(v);
            return out;
          },
          filter: function (u, s) { return s; },
          values: function (u, s) { return s.map(function (v) { return v == null ? "" : fmtP(v); }); }
        },
        yAxis(yLabel)
      ]
    };
  }

  var TL = D.timeline || {};
  var LAT = TL.lat || {};
  var BUILD = {
    rps: function () {
      return [[TL.t, TL.rps, TL.eps], timeOpts(
        [series("requests/s", COLORS.blue, "/s", { fill: "rgba(37,99,235,0.08)" }),
         series("errors/s", COLORS.red, "/s", { scale: "eps" })],
        [yAxis("requests/s"), yAxis("errors/s", "eps", 1)],
        { y: { range: zeroBased }, eps: { range: zeroBased } })];
    },
    codes: function () {
      var palette = { "1xx": COLORS.gray, "2xx": COLORS.green, "3xx": COLORS.sky, "4xx": COLORS.amber, "5xx": COLORS.red };
      var data = [TL.t], ser = [];
      Object.keys(TL.codes).sort().forEach(function (k) {
        data.push(TL.codes[k]);
        ser.push(series(k, palette[k] || COLORS.purple, "/s"));
      });
      return [data, timeOpts(ser, [yAxis("responses/s")], { y: { range: zeroBased } })];
    },
    latency: function () {
      var data = [TL.t, LAT.p50, LAT.p90, LAT.p95, LAT.p99, LAT.max];
      var ser = [series("p50", COLORS.green, " ms"), series("p90", COLORS.teal, " ms"),
        series("p95", COLORS.amber, " ms"), series("p99", COLORS.red, " ms"),
        series("max", COLORS.gray, " ms", { width: 1, dash: [4, 3] })];
      if (LAT.p99c) {
        data.push(LAT.p99c);
        ser.push(series("p99 corrected", COLORS.purple, " ms", { width: 2 }));
      }
      return [data, timeOpts(ser, [yAxis("ms")], { y: { range: zeroBased } })];
    },
    ws: function () {
      var W = TL.ws;
      return [[TL.t, W.sent, W.received, W.rtt99], timeOpts(
        [series("sent/s", COLORS.blue, "/s"), series("received/s", COLORS.green, "/s"),
         series("rtt p99", COLORS.red, " ms", { scale: "ms" })],
        [yAxis("messages/s"), yAxis("ms", "ms", 1)],
        { y: { range: zeroBased }, ms: { range: zeroBased } })];
    },
    vus: function () {
      return [[TL.t, TL.vus, TL.vusMax], timeOpts(
        [series("active", COLORS.blue, "", { fill: "rgba(37,99,235,0.08)", value: function (u, v) { return v == null ? "-" : String(v); } }),
         series("max in point", COLORS.gray, "", { width: 1, dash: [4, 3], value: function (u, v) { return v == null ? "-" : String(v); } })],
        [yAxis("VUs")], { y: { range: zeroBased } })];
    },
    schedule: function () {
      return [[TL.t, TL.late, TL.dropped], timeOpts(
        [series("late iterations/s", COLORS.amber, "/s"), series("dropped requests/s", COLORS.red, "/s")],
        [yAxis("per second")], { y: { range: zeroBased } })];
    },
    cpu: function () {
      var warn = TL.t.map(function () { return TL.cpuWarn; });
      return [[TL.t, TL.cpu, TL.cpuMax, warn], timeOpts(
        [series("cpu", COLORS.purple, "%", { fill: "rgba(124,58,237,0.08)" }),
         series("max tick", COLORS.gray, "%", { width: 1, dash: [4, 3] }),
         series("warning", COLORS.red, "%", { width: 1, dash: [2, 4] })],
        [yAxis("% of cores")], { y: { range: function (u, min, max) { return [0, Math.max(100, max * 1.05)]; } } })];
    },
    dist: function () {
      var d = D.dist, data = [d.x, d.rt], ser = [series("response time", COLORS.blue, " ms", { width: 2 })];
      if (d.corrected) {
        data.push(d.corrected);
        ser.push(series("corrected", COLORS.purple, " ms", { width: 2 }));
      }
      return [data, distOpts(ser, "ms")];
    },
    lagdist: function () {
      var d = D.lagdist, warn = d.x.map(function () { return d.warnMs; });
      return [[d.x, d.lag, warn], distOpts(
        [series("schedule lag", COLORS.amber, " ms", { width: 2 }),
         series("warning (p99)", COLORS.red, " ms", { width: 1, dash: [2, 4] })], "ms")];
    }
  };

  function draw(el) {
    var key = el.getAttribute("data-chart");
    var build = BUILD[key];
    if (!build) throw new Error("unknown chart " + key);
    var spec = build();
    var opts = spec[1];
    opts.width = Math.max(200, el.clientWidth);
    opts.height = H;
    opts.legend = { live: true };
    var u = new uPlot(opts, spec[0], el);
    plots.push({ el: el, u: u });
  }

  function drawAll() {
    var els = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < els.length; i++) {
      try {
        draw(els[i]);
      } catch (e) {
        console.error("chart " + els[i].getAttribute("data-chart") + ": " + (e && e.stack || e));
      }
    }
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        plots.forEach(function (p) { p.u.setSize({ width: Math.max(200, p.el.clientWidth), height: H }); });
      }, 100);
    });
  }

  /* Sortable tables: click a header to sort the body rows by that column (numbers by data-v). */
  function sortable(table) {
    var ths = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(ths, function (th, col) {
      th.title = "Sort";
      th.addEventListener("click", function () {
        var desc = !th.classList.contains("desc");
        Array.prototype.forEach.call(ths, function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(desc ? "desc" : "asc");
        var text = th.getAttribute("data-type") === "text";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col], r;
          if (text) {
            r = x.textContent.localeCompare(y.textContent);
          } else {
            r = parseFloat(x.getAttribute("data-v") || x.textContent) - parseFloat(y.getAttribute("data-v") || y.textContent);
          }
          return desc ? -r : r;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  }

  /* The self-check: each chart has a canvas with some non-transparent pixel and some pixel of a
     series' colour, and no JavaScript error was raised. */
  function hex(c) { return [1, 3, 5].map(function (i) { return parseInt(c.substr(i, 2), 16); }); }
  function selftest() {
    var fails = [];
    var els = document.querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(els, function (el) {
      var key = el.getAttribute("data-chart");
      var canvas = el.querySelector("canvas");
      if (!canvas) { fails.push(key + ": no canvas"); return; }
      if (!canvas.width || !canvas.height) { fails.push(key + ": empty canvas"); return; }
      var px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      var plot = plots.filter(function (p) { return p.el === el; })[0];
      var colors = plot ? plot.u.series.map(function (s, idx) {
        var c = idx > 0 && s.show !== false ? (typeof s.stroke === "function" ? s.stroke(plot.u, idx) : s.stroke) : null;
        return typeof c === "string" && c.charAt(0) === "#" ? hex(c) : null;
      }).filter(Boolean) : [];
      var lit = false, inked = false;
      for (var i = 0; i < px.length; i += 4) {
        if (px[i + 3] === 0) continue;
        lit = true;
        for (var j = 0; j < colors.length; j++) {
          var c = colors[j];
          if (px[i + 3] > 200 && Math.abs(px[i] - c[0]) + Math.abs(px[i + 1] - c[1]) + Math.abs(px[i + 2] - c[2]) < 40) { inked = true; break; }
        }
        if (inked) break;
      }
      if (!lit) fails.push(key + ": blank canvas");
      else if (!inked) fails.push(key + ": no series drawn");
    });
    /* Sorting: a numeric column clicked once sorts descending, twice ascending. */
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      var th = table.tHead.rows[0].cells[1];
      if (!th || th.getAttribute("data-type") === "text" || table.tBodies[0].rows.length < 2) return;
      [[-1, "desc"], [1, "asc"]].forEach(function (want) {
        th.click();
        var v = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return parseFloat(r.cells[1].getAttribute("data-v")); });
        for (var i = 1; i < v.length; i++) {
          if ((v[i] - v[i - 1]) * want[0] < 0) { fails.push((table.id || "table") + ": not sorted " + want[1]); return; }
        }
      });
    });
    (window.__hornetErrors || []).forEach(function (e) { fails.push("js error: " + e); });
    var pre = document.createElement("pre");
    pre.id = "selftest";
    pre.textContent = fails.length ? "FAIL: " + fails.join("; ") : "ok " + els.length + " charts";
    document.body.appendChild(pre);
  }

  drawAll();
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), sortable);
  if (/[?&]selftest(=|&|$)/.test(location.search)) {
    /* uPlot commits its first draw in a microtask; check after it. */
    setTimeout(selftest, 200);
  }
})();
