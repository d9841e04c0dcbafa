// lesson.js wires a lesson page: the run panel, the scenario buttons in the
// prose, and the copy buttons of the code samples.
import { texts } from "./catalog.js";
import { RunView, watch, startRun } from "./trace.js";
import { keepToken } from "./controls.js";
import { visit, markRead, recordRun } from "./progress.js";

const panel = document.querySelector("[data-testid=run-panel]");
const t = texts();
const form = panel.querySelector("form");
const errorBox = panel.querySelector("[data-testid=run-error]");
const runs = panel.querySelector("[data-testid=runs]");
const lessonID = panel.dataset.guarantee;
visit(lessonID, location.pathname + location.search);
// A lesson counts as read once its last section has been on screen.
const sections = document.querySelectorAll("section.prose");
if (sections.length) {
  new IntersectionObserver((entries, obs) => {
    if (entries.some((e) => e.isIntersecting)) { markRead(lessonID); obs.disconnect(); }
  }).observe(sections[sections.length - 1]);
}

// The questions a prediction asks, by the name of their radio buttons.
const QUESTIONS = { lost: "predict_lost", dup: "predict_dup", recovered: "predict_recovered", balance: "predict_balance" };

// prediction reads the learner's guess, if they made one: an answer to any
// of the questions.
function prediction() {
  const f = new FormData(form);
  const guess = {};
  for (const [k, name] of Object.entries(QUESTIONS)) {
    const v = f.get(name);
    if (v) guess[k] = v;
  }
  return Object.keys(guess).length ? guess : null;
}

// The balance question counts the deposits of the run the form will start:
// its texts follow the form's number of deposits.
function countDeposits() {
  const n = String(Number(form.elements.messages?.value) || 0);
  form.querySelectorAll(".prediction [data-text]").forEach((e) => {
    const text = t[e.dataset.text];
    if (text) e.textContent = text.replaceAll("{n}", n);
  });
}
form.elements.messages?.addEventListener("input", countDeposits);

panel.querySelector("[data-testid=nojs]").hidden = true;
form.querySelector("button[type=submit]").disabled = false;

async function run(req) {
  const guess = prediction();
  errorBox.hidden = true;
  let created;
  try {
    created = await startRun("/api/runs", req);
  } catch (err) {
    errorBox.textContent = err.status === 429 ? t["error.full"] : `${t["error.start"]} ${err.message}`;
    errorBox.hidden = false;
    return;
  }
  keepToken(created.id, created.control_token);
  if (req.presenter) {
    location.assign(`/runs/${encodeURIComponent(created.id)}?presenter=1`);
    return;
  }
  const view = new RunView(runs, t, { id: created.id, ...req });
  view.controls(created.id);
  watch(view, created.ws, (st) => {
    const judged = guess ? view.judgePrediction(guess, st) : null;
    recordRun(lessonID, judged && { ...judged, preset: req.preset || "", fault: req.fault, messages: req.messages });
  }, () => {
    errorBox.textContent = t["error.socket"];
    errorBox.hidden = false;
  });
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = new FormData(form);
  run({
    guarantee: panel.dataset.guarantee,
    preset: f.get("preset") || undefined, // the API's default preset
    fault: f.get("fault"),
    messages: Number(f.get("messages")),
    pace_ms: Number(f.get("pace_ms") || 0),
    partitions: Number(f.get("partitions") || 1),
    processors: Number(f.get("processors") || 1),
    presenter: f.get("presenter") === "on",
  });
});

// Scenario buttons in the prose fill in the form and start the run.
document.querySelectorAll(".run-scenario").forEach((b) => {
  b.addEventListener("click", () => {
    const d = b.dataset;
    form.querySelector(`input[name=fault][value="${CSS.escape(d.fault)}"]`).checked = true;
    const preset = form.querySelector(`input[name=preset][value="${CSS.escape(d.preset)}"]`);
    if (preset) preset.checked = true;
    form.elements.messages.value = d.messages;
    form.elements.pace_ms.value = d.pace;
    form.elements.partitions.value = d.partitions;
    form.elements.processors.value = d.processors;
    countDeposits();
    panel.scrollIntoView({ behavior: "smooth" });
    run({ guarantee: d.guarantee, preset: d.preset, fault: d.fault, messages: Number(d.messages), pace_ms: Number(d.pace),
      partitions: Number(d.partitions), processors: Number(d.processors), notify: d.notify || undefined });
  });
});

document.querySelectorAll("button.copy").forEach((b) => {
  b.addEventListener("click", async () => {
    const pre = document.getElementById(b.dataset.copyTarget);
    if (!pre) return;
    await navigator.clipboard.writeText(pre.textContent);
    b.classList.add("copied");
    setTimeout(() => b.classList.remove("copied"), 1500);
  });
});
