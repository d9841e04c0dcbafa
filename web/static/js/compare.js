// compare.js runs one fault under all three guarantees and fills the
// measured table live; the table can be downloaded as CSV or JSON.
import { RunView, watch, startRun, verdictText } from "./trace.js";
import { download } from "./progress.js";
import { catalog, failure, texts } from "./catalog.js";
import { bars } from "./charts.js";

const panel = document.querySelector("[data-testid=run-panel]");
const t = texts();
const form = panel.querySelector("form");
const errorBox = panel.querySelector("[data-testid=run-error]");
const runs = panel.querySelector("[data-testid=runs]");
const exports = document.querySelectorAll("button.export");
panel.querySelector("[data-testid=nojs]").hidden = true;
form.querySelector("button[type=submit]").disabled = false;
runs.classList.add("side-by-side");

const results = {};
const cols = {
  "result.sent": (r) => r.sent, "result.credited": (r) => r.credited, "result.lost": (r) => r.lost,
  "result.duplicated": (r) => r.duplicated, "result.recovered": (r) => r.recovered, "result.balance": (r) => r.balance,
  "result.throughput": (r) => Math.round(r.throughput_msgs_per_s), "result.p50": (r) => r.latency_ms.p50, "result.p99": (r) => r.latency_ms.p99,
};

function fill(g, run) {
  const row = document.querySelector(`tr[data-guarantee="${CSS.escape(g)}"]`);
  if (run.state === "failed") {
    row.querySelector("[data-field=verdict]").textContent = `${t["error.run"]} ${failure(t, run)}`;
    return;
  }
  const r = run.result;
  for (const [k, f] of Object.entries(cols)) row.querySelector(`[data-field="${k}"]`).textContent = String(f(r));
  row.querySelector("[data-field=verdict]").textContent = verdictText(t, r.verdict);
  row.dataset.verdict = r.verdict;
  results[g] = run;
  exports.forEach((b) => (b.disabled = false));
  drawChart();
}

// drawChart puts throughput and p99 latency side by side under the table,
// in the table's order.
function drawChart() {
  const gs = [...document.querySelectorAll("tr[data-guarantee]")].map((row) => row.dataset.guarantee).filter((g) => results[g]);
  const fig = document.querySelector("[data-testid=compare-chart]");
  fig.hidden = false;
  fig.replaceChildren(
    bars(t["result.throughput"], gs.map((g) => [g, Math.round(results[g].result.throughput_msgs_per_s)]), "chart-throughput", false),
    bars(t["result.p99"], gs.map((g) => [g, results[g].result.latency_ms.p99]), "chart-p99", false));
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = new FormData(form);
  errorBox.hidden = true;
  let created;
  try {
    created = await startRun("/api/compare", { fault: f.get("fault"), messages: Number(f.get("messages")) });
  } catch (err) {
    errorBox.textContent = err.status === 429 ? t["error.full"] : `${t["error.start"]} ${err.message}`;
    errorBox.hidden = false;
    return;
  }
  runs.replaceChildren();
  // Each view goes on top: the strongest first makes the weakest lead.
  for (const g of catalog.guarantees.map((x) => x.id).reverse()) {
    const id = created.runs[g];
    const view = new RunView(runs, t, { id, guarantee: g, preset: catalog.default_preset, fault: f.get("fault"), messages: Number(f.get("messages")) });
    watch(view, `/ws/runs/${id}`, (run) => fill(g, run), () => { errorBox.textContent = t["error.socket"]; errorBox.hidden = false; });
  }
});

exports.forEach((b) => b.addEventListener("click", () => {
  // The table's order, not the order the runs finished in.
  const gs = [...document.querySelectorAll("tr[data-guarantee]")].map((row) => row.dataset.guarantee).filter((g) => results[g]);
  if (b.dataset.format === "json") {
    download("compare.json", "application/json", JSON.stringify(gs.map((g) => results[g]), null, 2));
    return;
  }
  const head = ["guarantee", ...Object.keys(cols).map((k) => k.replace("result.", "")), "verdict"];
  const lines = [head.join(",")];
  for (const g of gs) {
    const r = results[g].result;
    lines.push([g, ...Object.values(cols).map((f) => f(r)), r.verdict].join(","));
  }
  download("compare.csv", "text/csv", lines.join("\n") + "\n");
}));
