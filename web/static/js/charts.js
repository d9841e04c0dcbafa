// charts.js draws a run too large for one cell per deposit as numbers over
// time: deposits sent, acknowledged and credited; then, with the result,
// how many credits each deposit got, how long deposits took, and what the
// faults did, grouped rather than listed one deposit at a time.

const SVG = "http://www.w3.org/2000/svg";
const BUCKET_MS = 100; // one point per 100 ms of the run
const MAX_POINTS = 600; // past it, neighbouring points merge

function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

// fmt groups a count's digits by thousands (1,000,000: the same in Korean
// and English). Not toLocaleString: its first call loads the locale's data,
// a task of a few hundred ms on a busy machine (the budget: TestBrowserBudget).
const fmt = (n) => String(n).replace(/^-?\d+/, (d) => d.replace(/\B(?=(\d{3})+$)/g, ","));

// bars draws a labelled bar chart: each bar its label and value and, for
// a distribution (share), its share of the whole.
export function bars(title, items, testid, share = true) {
  const W = 640, row = 20, L = 110, total = items.reduce((a, [, v]) => a + v, 0) || 1;
  const top = share ? total : Math.max(...items.map(([, v]) => v), 1);
  const chart = svg("svg", { role: "img", "data-testid": testid, viewBox: `0 0 ${W} ${items.length * row + 24}` });
  chart.setAttribute("aria-label", `${title}: ${items.map(([k, v]) => `${k} ${v}`).join(", ")}`);
  chart.append(svg("text", { x: 0, y: 14, class: "title" }, title));
  items.forEach(([k, v], i) => {
    const yy = 24 + i * row, w = (v / top) * (W - L - 120);
    chart.append(svg("text", { x: L - 6, y: yy + 13, "text-anchor": "end" }, k));
    chart.append(svg("rect", { x: L, y: yy + 2, width: Math.max(v ? 2 : 0, w), height: row - 6, class: "bar" }));
    chart.append(svg("text", { x: L + 6 + w, y: yy + 13 }, share ? `${fmt(v)} (${((100 * v) / total).toFixed(1)}%)` : fmt(v)));
  });
  return chart;
}

export class Charts {
  constructor(parent, t, run) {
    this.t = t;
    this.run = run;
    this.start = 0;
    this.step = BUCKET_MS;
    this.points = []; // {ms, sent, acked, credited}
    this.root = document.createElement("figure");
    this.root.className = "charts";
    this.root.dataset.testid = "charts";
    this.flow = svg("svg", { role: "img", "data-testid": "chart-flow" });
    this.summary = document.createElement("div");
    this.summary.className = "chart-summary";
    this.root.append(this.flow, this.summary);
    parent.append(this.root);
    this.pending = false;
  }

  // progress adds a progress frame's counts at the time it came.
  progress(p) {
    const now = performance.now();
    if (!this.start) this.start = now;
    const ms = Math.floor((now - this.start) / this.step) * this.step;
    const point = { ms, sent: p.sent || 0, acked: p.acked || 0, credited: p.credited || 0 };
    const last = this.points[this.points.length - 1];
    if (last && last.ms === ms) this.points[this.points.length - 1] = point;
    else this.points.push(point);
    if (this.points.length > MAX_POINTS) {
      this.step *= 2;
      this.points = this.points.filter((q, i) => i % 2 === 1 || i === this.points.length - 1);
    }
    this.schedule();
  }

  done(run) {
    this.result = run.result || null;
    this.drawFlow();
    this.drawSummary();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.drawFlow(); });
  }

  drawFlow() {
    const t = this.t, W = 640, H = 180, L = 56, B = 22;
    const last = this.points[this.points.length - 1];
    // Credits can pass the deposits sent: duplicates.
    const n = Math.max(this.run.messages, ...this.points.map((p) => Math.max(p.sent, p.credited)));
    const span = Math.max(this.step, last ? last.ms + this.step : 0);
    const x = (ms) => L + (ms / span) * (W - L - 8);
    const y = (v) => H - B - (v / n) * (H - B - 8);
    const g = svg("g");
    g.append(svg("line", { x1: L, y1: H - B, x2: W, y2: H - B, class: "axis" }), svg("line", { x1: L, y1: 8, x2: L, y2: H - B, class: "axis" }));
    g.append(svg("text", { x: L - 4, y: 14, "text-anchor": "end" }, fmt(n)), svg("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
    g.append(svg("text", { x: W, y: H - 4, "text-anchor": "end" }, `${(span / 1000).toFixed(1)} s`));
    const series = [["sent", "result.sent"], ["acked", "result.acked"], ["credited", "result.credited"]];
    series.forEach(([k, label], i) => {
      if (!this.points.length) return;
      const d = this.points.map((p, j) => `${j ? "L" : "M"}${x(p.ms).toFixed(1)} ${y(p[k]).toFixed(1)}`).join(" ");
      g.append(svg("path", { d, class: `series ${k}` }));
      g.append(svg("line", { x1: L + 10 + i * 150, y1: H - 6, x2: L + 34 + i * 150, y2: H - 6, class: `series ${k}` }));
      g.append(svg("text", { x: L + 38 + i * 150, y: H - 2 }, `${t[label]} ${fmt(last[k])}`));
    });
    this.flow.setAttribute("viewBox", `0 0 ${W} ${H + 4}`);
    this.flow.setAttribute("aria-label", `${t["chart.flow"]}: ${series.map(([k, label]) => `${t[label]} ${last ? last[k] : 0}`).join(", ")}`);
    this.flow.replaceChildren(g);
  }

  drawSummary() {
    const t = this.t, r = this.result;
    this.summary.replaceChildren();
    if (!r) return;
    const h = r.credits_histogram || {};
    const three = Object.entries(h).filter(([k]) => Number(k) >= 3).reduce((a, [, v]) => a + v, 0);
    this.summary.append(bars(t["chart.credits"], [["0", h["0"] || 0], ["1", h["1"] || 0], ["2", h["2"] || 0], ["3+", three]], "chart-credits"));
    const l = r.latency_ms || {};
    const bounds = ["≤1", "≤2", "≤5", "≤10", "≤20", "≤50", "≤100", "≤200", "≤500", "≤1000", "≤2000", "≤5000", "≤10000", ">10000"];
    // From the first bucket with a deposit to the last.
    const hist = l.histogram || [];
    const first = hist.findIndex((v) => v > 0), lastUsed = hist.findLastIndex((v) => v > 0);
    const lat = first < 0 ? [] : hist.slice(first, lastUsed + 1).map((v, i) => [`${bounds[first + i]} ms`, v]);
    this.summary.append(bars(`${t["chart.latency"]} — p50 ${l.p50} ms · p95 ${l.p95} ms · p99 ${l.p99} ms`, lat, "chart-latency"));
    // Anomalies by cause, not one line per deposit.
    const ul = document.createElement("ul");
    ul.className = "causes";
    ul.dataset.testid = "causes";
    for (const s of r.struck || []) {
      const li = document.createElement("li");
      const text = s.deposits ? t["chart.strikes"] : t["chart.crashes"];
      li.textContent = `${s.fault}: ${text.replace("{n}", fmt(s.strikes)).replace("{d}", fmt(s.deposits || 0))}`;
      ul.append(li);
    }
    for (const [k, key] of [["lost", "result.lost"], ["duplicated", "result.duplicated"], ["recovered", "result.recovered"]]) {
      if (!r[k]) continue;
      const li = document.createElement("li");
      li.className = k;
      li.textContent = `${t[key]}: ${fmt(r[k])}`;
      ul.append(li);
    }
    if (ul.children.length) this.summary.append(ul);
  }
}
