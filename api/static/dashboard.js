// vialguard dashboard: polls the REST API and draws everything itself (no framework, no CDN, no build).
// Server text is only ever set with textContent, never parsed as HTML.
"use strict";

(function () {
  const POLL_DASHBOARD_MS = 5000;
  const POLL_ALERTS_MS = 3000;
  const POLL_CHARTS_MS = 30000;
  const SVG = "http://www.w3.org/2000/svg";
  const utcOffsetMinutes = -new Date().getTimezoneOffset();

  let thresholds = { potency_warning_percent: 95, potency_critical_percent: 90, light_lux: 10,
                     temperature_low_celsius: 2, temperature_high_celsius: 8 };
  let alertCursor = 0;
  let alertEtag = null;
  const alerts = new Map();        // id -> alert, every alert not resolved
  const alertCards = new Map();    // id -> <li>
  const locationTiles = new Map(); // key -> refs
  const vialTiles = new Map();     // key -> refs
  const names = { locations: new Map(), vials: new Map() };

  // ---- small helpers -------------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function num(x) { return typeof x === "number" && isFinite(x) ? x : null; }
  function first(...xs) { for (const x of xs) { const n = num(x); if (n !== null) return n; } return null; }
  function fmt(x, digits, unit) { return x === null || x === undefined ? "–" : x.toFixed(digits) + (unit ? " " + unit : ""); }
  function t(iso) { return iso ? Date.parse(iso) : null; }
  function clock(ms) {
    return ms === null ? "–" : new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  function clockSeconds(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }
  function stamp(ms) {
    return ms === null ? "–" : new Date(ms).toLocaleString([], { month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit" });
  }
  function seconds(s) {
    if (s === null) return "–";
    if (s < 90) return Math.round(s) + " s";
    if (s < 5400) return Math.round(s / 60) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  // Reads send the token this tab was given (in an acknowledgement form) when there is one: a server not
  // bound to loopback alone asks for a read token on every read.
  function withToken(headers) {
    const token = sessionStorage.getItem("vialguard.token");
    if (token) headers.Authorization = "Bearer " + token;
    return headers;
  }

  class Refused extends Error {}

  function check(r, what) {
    if (r.status === 401 || r.status === 403) throw new Refused(what + ": HTTP " + r.status);
    if (!r.ok) throw new Error(what + ": HTTP " + r.status);
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: withToken({ Accept: "application/json" }) });
    check(r, url);
    return r.json();
  }

  function setConnection(ok, text) {
    const c = document.getElementById("connection");
    c.className = "conn " + (ok ? "conn-ok" : "conn-bad");
    c.textContent = text;
  }

  // ---- potency: best, low and high (potency_bounds_percent). The verdict, its colour, basis and time left
  // are the server's (vial.verdict), the same as the API, the reports and the command line: nothing here
  // decides or words them.

  function potencyOf(v) {
    const b = v.potency_bounds_percent || {};
    return { best: first(num(b.best), num(v.potency_percent)), low: num(b.low), high: num(b.high) };
  }

  const STATUS_FILL = { green: "#176b32", amber: "#f2b600", red: "#b3261e" };

  // A vaccine vial monitor: a square inside a circle; the square darkens as the vial degrades.
  function vvm(status) {
    const s = svg("svg", { viewBox: "0 0 44 44", width: "44", height: "44", class: "vvm", "aria-hidden": "true" });
    s.append(svg("circle", { cx: 22, cy: 22, r: 20, fill: "#e8edf2", stroke: "#4a5563", "stroke-width": 2 }));
    s.append(svg("rect", { x: 12, y: 12, width: 20, height: 20, fill: STATUS_FILL[status] }));
    return s;
  }

  // ---- charts: inline SVG --------------------------------------------------------------------------

  const W = 480, H = 160, PAD = { l: 42, r: 46, t: 20, b: 22 };

  function scale(d0, d1, r0, r1) {
    const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    return (x) => r0 + (x - d0) * k;
  }

  function niceMax(x) {
    if (x <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(x)));
    for (const m of [1, 2, 2.5, 5, 10]) if (x <= m * p) return m * p;
    return 10 * p;
  }

  function path(points, xs, ys, gapMs) {
    let d = "", prev = null;
    for (const [x, y] of points) {
      d += (prev === null || x - prev > gapMs ? "M" : "L") + xs(x).toFixed(1) + "," + ys(y).toFixed(1);
      prev = x;
    }
    return d;
  }

  function chart({ label, x0, x1, left, right, series, band, hlines, gapMs }) {
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label });
    s.append(svg("title", {}, label));
    const xs = scale(x0, x1, PAD.l, W - PAD.r);
    const yl = scale(left.min, left.max, H - PAD.b, PAD.t);
    const yr = right ? scale(right.min, right.max, H - PAD.b, PAD.t) : null;
    if (band) {
      s.append(svg("rect", { x: PAD.l, y: yl(band.hi), width: W - PAD.l - PAD.r, height: Math.max(0, yl(band.lo) - yl(band.hi)),
        fill: band.fill }));
    }
    s.append(svg("line", { x1: PAD.l, x2: W - PAD.r, y1: H - PAD.b, y2: H - PAD.b, class: "axis" }));
    for (const f of [0, 0.5, 1]) {
      const v = left.min + f * (left.max - left.min);
      s.append(svg("text", { x: PAD.l - 4, y: yl(v) + 4, "text-anchor": "end" }, fmtTick(v)));
      if (right) {
        const w = right.min + f * (right.max - right.min);
        s.append(svg("text", { x: W - PAD.r + 4, y: yr(w) + 4, "text-anchor": "start", fill: right.color }, fmtTick(w)));
      }
    }
    s.append(svg("text", { x: 2, y: 10 }, left.unit));
    if (right) s.append(svg("text", { x: W - 2, y: 10, "text-anchor": "end", fill: right.color }, right.unit));
    for (let i = 0; i <= 4; i++) {
      const x = x0 + (i * (x1 - x0)) / 4;
      s.append(svg("text", { x: xs(x), y: H - 6, "text-anchor": i === 0 ? "start" : i === 4 ? "end" : "middle" },
        (x1 - x0) > 3 * 86400000 ? stamp(x).replace(/,.*/, "") : (x1 - x0) < 600000 ? clockSeconds(x) : clock(x)));
    }
    for (const h of hlines || []) {
      s.append(svg("line", { x1: PAD.l, x2: W - PAD.r, y1: yl(h.y), y2: yl(h.y), stroke: h.color,
        "stroke-dasharray": "5 4", "stroke-width": 1.5 }));
      s.append(svg("text", { x: PAD.l + 4, y: yl(h.y) - 3, fill: h.color }, h.label));
    }
    for (const ser of series) {
      const ys = ser.axis === "right" ? yr : yl;
      if (ser.area) {
        // a filled band between two values per point (min..max), drawn as one polygon per unbroken run
        let run = [];
        const flush = () => {
          if (run.length) {
            const top = run.map(([x, , hi]) => `${xs(x).toFixed(1)},${ys(hi).toFixed(1)}`);
            const bottom = run.slice().reverse().map(([x, lo]) => `${xs(x).toFixed(1)},${ys(lo).toFixed(1)}`);
            s.append(svg("polygon", { points: top.concat(bottom).join(" "), fill: ser.color, "fill-opacity": ser.opacity || 0.35 }));
          }
          run = [];
        };
        let prev = null;
        for (const p of ser.points) {
          if (prev !== null && p[0] - prev > gapMs) flush();
          run.push(p.length === 3 ? p : [p[0], p[1], p[1]]);
          if (run.length === 1) run.push([p[0] + 1, p[1], p.length === 3 ? p[2] : p[1]]);
          prev = p[0];
        }
        flush();
      } else {
        s.append(svg("path", { d: path(ser.points, xs, ys, gapMs), fill: "none", stroke: ser.color,
          "stroke-width": ser.width || 2, "stroke-linejoin": "round" }));
      }
    }
    return s;
  }

  function fmtTick(v) { return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1); }

  function temperatureChart(series) {
    const pts = series.temperature.map((p) => [t(p.at), p.celsius_min, p.celsius_max]);
    const mean = series.temperature.map((p) => [t(p.at), p.celsius_mean]);
    const lo = thresholds.temperature_low_celsius, hi = thresholds.temperature_high_celsius;
    const vals = series.temperature.flatMap((p) => [p.celsius_min, p.celsius_max]);
    const min = Math.floor(Math.min(lo - 2, ...vals)), max = Math.ceil(Math.max(hi + 2, ...vals));
    const label = vals.length
      ? `Temperature, last 24 h: from ${Math.min(...vals).toFixed(1)} to ${Math.max(...vals).toFixed(1)} °C; safe range ${lo}–${hi} °C shaded`
      : "Temperature, last 24 h: no readings";
    return chart({ label, x0: t(series.start), x1: t(series.end), gapMs: series.bucket_seconds * 1500,
      left: { min, max, unit: "°C" }, band: { lo, hi, fill: "#dff3e4" },
      series: [{ points: pts, area: true, color: "#1d5fa8", opacity: 0.25 }, { points: mean, color: "#1d5fa8" }] });
  }

  function lightChart(series) {
    const lux = series.light.map((p) => [t(p.at), p.lux_min, p.lux_max]);
    const cum = series.light.map((p) => [t(p.at), p.window_lux_hours]);
    const maxLux = niceMax(Math.max(thresholds.light_lux * 5, ...series.light.map((p) => p.lux_max)));
    const maxCum = niceMax(Math.max(1, series.window_lux_hours));
    const label = `Light, last 24 h: peak ${fmt(Math.max(0, ...series.light.map((p) => p.lux_max)), 0, "lx")};` +
      ` cumulative ${series.window_lux_hours.toFixed(1)} lux·h (line, right axis)`;
    return chart({ label, x0: t(series.start), x1: t(series.end), gapMs: series.bucket_seconds * 1500,
      left: { min: 0, max: maxLux, unit: "lx" }, right: { min: 0, max: maxCum, unit: "lux·h", color: "#1d5fa8" },
      series: [{ points: lux, area: true, color: "#c98a00", opacity: 0.7 }, { points: cum, axis: "right", color: "#1d5fa8" }],
      hlines: [{ y: thresholds.light_lux, color: "#8a5a00", label: `${thresholds.light_lux} lx` }] });
  }

  function potencyChart(series, vial) {
    const best = series.points.map((p) => [t(p.at), p.potency_percent]);
    const banded = series.points.filter((p) => num(p.potency_low_percent) !== null && num(p.potency_high_percent) !== null);
    const vals = series.points.flatMap((p) => [p.potency_percent, first(p.potency_low_percent, p.potency_percent)]);
    const min = Math.min(series.threshold_critical_percent - 3, Math.floor(Math.min(...vals)));
    const max = Math.max(100, Math.ceil(Math.max(...series.points.map((p) => first(p.potency_high_percent, p.potency_percent)))));
    const x0 = best.length ? best[0][0] : 0, x1 = best.length ? best[best.length - 1][0] : 1;
    const last = series.points[series.points.length - 1];
    const ser = [];
    if (banded.length) ser.push({ points: banded.map((p) => [t(p.at), p.potency_low_percent, p.potency_high_percent]), area: true, color: "#1d5fa8", opacity: 0.2 });
    ser.push({ points: best, color: "#15191e" });
    const label = `Potency of ${vial} since registration: now ${last ? last.potency_percent.toFixed(1) : "–"} % of label` +
      (banded.length ? ", with its uncertainty band" : " (best estimate)");
    return chart({ label, x0, x1: Math.max(x1, x0 + 1), gapMs: Infinity, left: { min, max, unit: "%" }, series: ser,
      hlines: [{ y: series.threshold_warning_percent, color: "#8a5a00", label: `${series.threshold_warning_percent} %` },
               { y: series.threshold_critical_percent, color: "#b3261e", label: `${series.threshold_critical_percent} %` }] });
  }

  // ---- locations -----------------------------------------------------------------------------------

  function figure(label) {
    const v = el("span", { class: "v", text: "–" });
    return { node: el("div", { class: "fig" }, v, el("span", { class: "l", text: label })), v };
  }

  function fact(dl, term) {
    const dd = el("dd", { text: "–" });
    dl.append(el("dt", { text: term }), dd);
    return dd;
  }

  function locationTile(loc) {
    const lux = figure("lux now"), temp = figure("°C now");
    const state = el("span", { class: "state state-dark", text: "–" });
    const dl = el("dl", { class: "facts" });
    const refs = {
      lux, temp, state,
      mkt: fact(dl, "Mean kinetic temperature, 24 h"),
      openings: fact(dl, "Door openings today"),
      longest: fact(dl, "Longest opening today"),
      cum: fact(dl, "Cumulative light dose"),
      kappa: fact(dl, "Lamp spectrum factor κ_s"),
      asOf: fact(dl, "Last reading"),
      dl, nearUv: null,
      tempChart: el("div", {}), lightChart: el("div", {}),
    };
    const id = "loc-" + loc.key;
    refs.node = el("article", { class: "card location", "aria-labelledby": id, "data-key": loc.key },
      el("h3", { id, text: loc.name }),
      el("div", { class: "figures" }, lux.node, temp.node, el("div", { class: "fig" }, state, el("span", { class: "l", text: "light" }))),
      dl,
      el("div", { class: "charts" },
        el("div", {}, el("p", { class: "chart-title", text: "Temperature, last 24 h" }), refs.tempChart),
        el("div", {}, el("p", { class: "chart-title", text: "Light and cumulative lux·h, last 24 h" }), refs.lightChart)),
      el("div", { class: "links" },
        el("a", { href: `api/v1/reports/locations/${encodeURIComponent(loc.key)}.pdf?days=7&utc_offset_minutes=${utcOffsetMinutes}`,
          text: "Report, last 7 days (PDF)" })));
    document.getElementById("locations").append(refs.node);
    return refs;
  }

  function renderLocation(g) {
    const loc = g.location;
    names.locations.set(loc.key, loc.name);
    const refs = locationTiles.get(loc.key) || locationTile(loc);
    locationTiles.set(loc.key, refs);
    refs.lux.v.textContent = loc.lux === null ? "–" : (loc.lux_saturated ? "≥ " : "") + loc.lux.toFixed(loc.lux < 10 ? 1 : 0);
    refs.temp.v.textContent = fmt(loc.celsius, 1);
    const fridge = loc.kind === "fridge";
    if (g.light_on === null) { refs.state.textContent = "no reading"; refs.state.className = "state state-dark"; }
    else if (g.light_on) { refs.state.textContent = fridge ? "Door open · light on" : "Light on"; refs.state.className = "state state-lit"; }
    else { refs.state.textContent = fridge ? "Door closed · dark" : "Dark"; refs.state.className = "state state-dark"; }
    refs.mkt.textContent = fmt(loc.mean_kinetic_temperature_celsius, 2, "°C");
    refs.openings.textContent = String(g.door_openings_today) + (g.last_opening_at ? ` (last ${clock(t(g.last_opening_at))})` : "");
    refs.longest.textContent = seconds(g.longest_opening_seconds);
    refs.cum.textContent = fmt(loc.cumulative_lux_hours, 1, "lux·h");
    refs.kappa.textContent = spectrumFactor(loc);
    if (loc.near_uv) {
      // only where a UV sensor is installed; the estimate rests on an assumption the API names
      refs.nearUv = refs.nearUv || fact(refs.dl, "Near-UV dose (estimate)");
      const uv = loc.near_uv;
      refs.nearUv.textContent = `${uv.wh_per_m2.toFixed(2)} W·h/m² · ${(100 * uv.fraction_of_ich_q1b).toFixed(2)} % of ICH Q1B's ${uv.ich_q1b_wh_per_m2} W·h/m²`;
      refs.nearUv.title = uv.assumption;
    }
    refs.asOf.textContent = stamp(t(loc.as_of));
  }

  // κ_s as the model uses it: measured by a spectral sensor when one saw light (or estimated from a UV
  // sensor's daylight share, which rests on assumptions: said so), else the configured lamp's.
  function spectrumFactor(loc) {
    const m = loc.measured_spectrum_factor, k = loc.spectrum_factor;
    const how = m && m.provenance === "assumed" ? "measured near-UV, assumed" : "measured";
    if (m) return `${m.value.toFixed(2)}, ${how} (${m.low.toFixed(2)}–${m.high.toFixed(2)})`;
    if (!k) return "–";
    const lamp = !loc.lamp || loc.lamp === "unknown" ? "lamp not configured" : `lamp ${loc.lamp}`;
    return `${k.value.toFixed(2)}, ${lamp} (${k.low.toFixed(2)}–${k.high.toFixed(2)}, ${k.provenance})`;
  }

  let chartsAt = 0;        // real time of the last chart refresh
  let chartsDataAt = null; // the data's time (as_of) it showed
  let dataAt = null;       // the data's time at the last dashboard poll
  // A 24 h chart of 240 buckets moves one bucket in 6 min of data time: past that the charts are redrawn
  // at the dashboard's pace, so at a high --speed they keep up with the cards instead of trailing them.
  const CHART_STEP_MS = 6 * 60 * 1000;

  async function refreshCharts() {
    chartsAt = Date.now();
    chartsDataAt = dataAt;
    for (const [key, refs] of locationTiles) {
      try {
        const s = await getJSON(`api/v1/locations/${encodeURIComponent(key)}/series?hours=24&buckets=240`);
        refs.tempChart.replaceChildren(temperatureChart(s));
        refs.lightChart.replaceChildren(lightChart(s));
      } catch (e) { /* the next round retries; the connection badge reports outages */ }
    }
    for (const [key, refs] of vialTiles) {
      try {
        const s = await getJSON(`api/v1/vials/${refs.id}/potency-series?points=80`);
        refs.chart.replaceChildren(potencyChart(s, key));
      } catch (e) { /* as above */ }
    }
  }

  // ---- vials ---------------------------------------------------------------------------------------

  function vialTile(v) {
    const dl = el("dl", { class: "facts" });
    const badge = el("span", { class: "badge", text: "–" });
    const mark = el("span", {});
    const refs = {
      id: v.id, badge, mark,
      potency: fact(dl, "Potency"),
      why: fact(dl, "Why"),
      left: fact(dl, "Time left"),
      dose: fact(dl, "Effective light dose"),
      where: fact(dl, "Where"),
      lot: fact(dl, "Drug, lot"),
      chart: el("div", {}),
    };
    const id = "vial-" + v.key;
    refs.node = el("article", { class: "card vial", "aria-labelledby": id, "data-key": v.key },
      el("div", { class: "vial-head" }, mark, el("div", {}, el("h3", { id, text: v.key }), badge)),
      dl,
      el("p", { class: "chart-title", text: "Potency since registration" }), refs.chart,
      el("div", { class: "links" }, el("a", { href: `api/v1/reports/vials/${v.id}.pdf?utc_offset_minutes=${utcOffsetMinutes}`, text: "Vial report (PDF)" })));
    document.getElementById("vials").append(refs.node);
    return refs;
  }

  function renderVial(g) {
    const v = g.vial;
    const refs = vialTiles.get(v.key) || vialTile(v);
    vialTiles.set(v.key, refs);
    const p = potencyOf(v);
    const verdict = v.verdict;
    refs.badge.textContent = verdict.label;
    refs.badge.className = "badge status-" + verdict.colour;
    refs.node.dataset.status = verdict.colour;
    refs.node.dataset.verdict = verdict.verdict;
    refs.mark.replaceChildren(vvm(verdict.colour));
    let text = fmt(p.best, 2, "%");
    if (p.low !== null && p.high !== null) text = `${p.best.toFixed(2)} % (${p.low.toFixed(2)}–${p.high.toFixed(2)})`;
    refs.potency.textContent = `${text} · verdict from the ${verdict.basis}`;
    refs.why.textContent = verdict.reason;
    refs.left.textContent = verdict.time_left;
    refs.dose.textContent = fmt(num(v.effective_lux_hours), 2, "lux·h");
    const where = names.locations.get(v.location) || v.location || "–";
    // A vial received from another site goes on from its state there: say where from, and when.
    const from = v.received_from ? ` · from site ${v.received_from}, ${stamp(t(v.received_at))}` : "";
    refs.where.textContent = `${where}, ${v.packaging || "–"}${from}`;
    refs.lot.textContent = `${v.form || v.drug}, ${v.lot}`;
  }

  function dropMissing(tiles, keys) {
    for (const [key, refs] of tiles) if (!keys.has(key)) { refs.node.remove(); tiles.delete(key); }
  }

  async function refreshDashboard() {
    const d = await getJSON(`api/v1/dashboard?utc_offset_minutes=${utcOffsetMinutes}`);
    thresholds = d.thresholds;
    document.getElementById("site-name").textContent = d.site_name;
    document.title = d.site_name + " · vialguard";
    document.getElementById("as-of").textContent = stamp(t(d.as_of));
    document.getElementById("as-of").setAttribute("datetime", d.as_of || "");
    for (const n of document.querySelectorAll(".t-warn")) n.textContent = thresholds.potency_warning_percent;
    for (const n of document.querySelectorAll(".t-crit")) n.textContent = thresholds.potency_critical_percent;
    const fresh = locationTiles.size === 0 && vialTiles.size === 0;
    d.locations.forEach(renderLocation);
    d.vials.forEach(renderVial);
    for (const g of d.vials) names.vials.set(g.vial.key, g.vial.id);
    dropMissing(locationTiles, new Set(d.locations.map((g) => g.location.key)));
    dropMissing(vialTiles, new Set(d.vials.map((g) => g.vial.key)));
    dataAt = t(d.as_of);
    const behind = dataAt !== null && chartsDataAt !== null && dataAt - chartsDataAt >= CHART_STEP_MS;
    if (fresh || (behind && Date.now() - chartsAt > 4000)) refreshCharts();
  }

  // ---- alerts: follow the change cursor, keep every alert not resolved ----------------------------

  async function refreshAlerts() {
    for (;;) {
      const headers = withToken({ Accept: "application/json" });
      if (alertEtag) headers["If-None-Match"] = alertEtag;
      const r = await fetch(`api/v1/alerts?since=${alertCursor}&limit=500`, { headers, cache: "no-store" });
      if (r.status === 304) return;
      check(r, "alerts");
      alertEtag = r.headers.get("ETag");
      const page = await r.json();
      for (const a of page.alerts) {
        // pending: an excursion in progress, not a breach yet; the page shows breaches only
        if (a.state === "resolved" || a.state === "pending") alerts.delete(a.id); else alerts.set(a.id, a);
      }
      const more = page.alerts.length === 500 && page.cursor > alertCursor;
      alertCursor = page.cursor;
      renderAlerts();
      // an alert changed: bring the tiles to the same moment rather than up to 5 s behind it
      if (page.alerts.length) {
        refreshDashboard().catch(() => {});
        if (Date.now() - chartsAt > 5000) refreshCharts();
      }
      if (!more) return;
    }
  }

  const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 };

  function renderAlerts() {
    const list = document.getElementById("alerts");
    const active = [...alerts.values()].sort((a, b) =>
      (a.state === "firing" ? 0 : 1) - (b.state === "firing" ? 0 : 1) ||
      (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) || b.id - a.id);
    for (const [id, li] of alertCards) if (!alerts.has(id)) { li.remove(); alertCards.delete(id); }
    // Cards move only when their order changed: moving a node takes the keyboard focus out of it, so a
    // pharmacist typing in an open acknowledgement form would lose their place at every poll. One that
    // must move gets its focus back.
    const focused = document.activeElement;
    active.forEach((a, i) => {
      let li = alertCards.get(a.id);
      if (!li) { li = alertCard(a); alertCards.set(a.id, li); }
      updateAlertCard(li, a);
      if (list.children[i] !== li) {
        const keep = focused && li.contains(focused) ? focused : null;
        list.insertBefore(li, list.children[i] || null);
        if (keep) keep.focus({ preventScroll: true });
      }
    });
    const firing = active.filter((a) => a.state !== "acknowledged").length;
    const count = document.getElementById("alert-count");
    count.textContent = String(active.length);
    count.className = "count" + (firing ? " has" : "");
    count.setAttribute("aria-label", `${active.length} active, ${firing} not acknowledged`);
    document.getElementById("no-alerts").hidden = active.length > 0;
  }

  function subjectOf(a) {
    if (a.vial) return "vial " + a.vial;
    if (a.location) return names.locations.get(a.location) || a.location;
    if (a.sensor) return "sensor " + a.sensor;
    return "";
  }

  function alertCard(a) {
    const li = el("li", { class: "alert", "data-alert-id": String(a.id) });
    li.refs = {
      sev: el("span", { class: "sev" }), subject: el("span", {}), msg: el("p", { class: "msg" }),
      when: el("p", { class: "when" }), ack: el("p", { class: "ackd" }),
      button: el("button", { type: "button", "aria-expanded": "false", text: "Acknowledge" }),
      formSlot: el("div", {}),
    };
    li.refs.button.addEventListener("click", () => toggleForm(li, a.id));
    li.append(el("div", {}, li.refs.sev, document.createTextNode(" · "), li.refs.subject), li.refs.msg, li.refs.when,
      li.refs.ack, li.refs.button, li.refs.formSlot);
    return li;
  }

  function updateAlertCard(li, a) {
    const r = li.refs;
    li.className = "alert sev-" + a.severity;
    r.sev.textContent = a.severity + (a.state === "acknowledged" ? " · acknowledged" : " · firing");
    r.subject.textContent = subjectOf(a);
    r.msg.textContent = a.message;
    r.when.textContent = `Since ${stamp(t(a.started_at || a.fired_at))} · rule ${a.rule}`;
    const acked = a.state === "acknowledged" || !!a.acknowledged_by;
    r.ack.hidden = !acked;
    r.ack.textContent = acked ? `Acknowledged by ${a.acknowledged_by} at ${stamp(t(a.acknowledged_at))}: “${a.acknowledgement_comment}”` : "";
    r.button.hidden = acked;
    if (acked) r.formSlot.replaceChildren();
  }

  function toggleForm(li, id) {
    const r = li.refs;
    if (r.formSlot.firstChild) {
      r.formSlot.replaceChildren();
      r.button.setAttribute("aria-expanded", "false");
      return;
    }
    r.button.setAttribute("aria-expanded", "true");
    const byId = `ack-by-${id}`, commentId = `ack-comment-${id}`, tokenId = `ack-token-${id}`, errId = `ack-err-${id}`;
    const by = el("input", { id: byId, name: "by", required: true, autocomplete: "name", maxlength: "500" });
    by.value = localStorage.getItem("vialguard.ack.by") || "";
    const comment = el("textarea", { id: commentId, name: "comment", required: true, rows: "2", maxlength: "500",
      "aria-describedby": errId });
    const token = el("input", { id: tokenId, name: "token", type: "password", autocomplete: "off" });
    token.value = sessionStorage.getItem("vialguard.token") || "";
    const err = el("p", { id: errId, class: "error", role: "alert" });
    const submit = el("button", { type: "submit", text: "Submit acknowledgement" });
    const cancel = el("button", { type: "button", class: "secondary", text: "Cancel" });
    cancel.addEventListener("click", () => { r.formSlot.replaceChildren(); r.button.setAttribute("aria-expanded", "false"); r.button.focus(); });
    const form = el("form", { class: "ack", novalidate: true, "aria-label": `Acknowledge alert ${id}` },
      el("label", { for: byId, text: "Your name" }), by,
      el("label", { for: commentId, text: "Comment: what was done (required)" }), comment,
      el("details", { open: !token.value }, el("summary", { text: "API token" }),
        el("label", { for: tokenId, text: "API token (write scope)" }), token,
        el("p", { class: "hint", text: "Acknowledging needs a write token: vialguard token create --scope write --name NAME" })),
      err, el("div", { class: "row" }, submit, cancel));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { by: by.value.trim(), comment: comment.value.trim() };
      if (!body.by) { err.textContent = "Enter your name."; by.focus(); return; }
      if (!body.comment) { err.textContent = "A comment is required: say what was done."; comment.focus(); return; }
      const headers = { "Content-Type": "application/json", Accept: "application/json" };
      if (token.value.trim()) headers.Authorization = "Bearer " + token.value.trim();
      submit.disabled = true;
      try {
        const resp = await fetch(`api/v1/alerts/${id}/ack`, { method: "POST", headers, body: JSON.stringify(body) });
        const data = await resp.json().catch(() => ({}));
        if (!resp.ok) {
          err.textContent = (data && data.message) || `The server refused (HTTP ${resp.status}).`;
          if (resp.status === 401 || resp.status === 403) form.querySelector("details").open = true;
          return;
        }
        localStorage.setItem("vialguard.ack.by", body.by);
        if (token.value.trim()) sessionStorage.setItem("vialguard.token", token.value.trim());
        alerts.set(data.id, data);
        renderAlerts();
        refreshAlerts().catch(() => {});
      } catch (e) {
        err.textContent = "The server could not be reached; try again.";
      } finally {
        submit.disabled = false;
      }
    });
    r.formSlot.replaceChildren(form);
    by.value ? comment.focus() : by.focus();
  }

  // ---- polling -------------------------------------------------------------------------------------

  function loop(fn, ms) {
    const tick = async () => {
      try {
        await fn();
        setConnection(true, "Live");
      } catch (e) {
        setConnection(false, e instanceof Refused ? "This server needs an API token to read" : "Offline: retrying");
      }
      setTimeout(tick, ms);
    };
    tick();
  }

  loop(refreshDashboard, POLL_DASHBOARD_MS);
  loop(refreshAlerts, POLL_ALERTS_MS);
  setInterval(refreshCharts, POLL_CHARTS_MS);
})();
