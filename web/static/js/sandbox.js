// sandbox.js wires /sandbox and /levels/{id}: the settings form, the client
// lines and share link that follow it, a custom run of the settings, and
// its verdict for the claim with the settings to blame. On a level page it
// also counts the changes from the level's start and keeps the progress.
import { catalog, texts } from "./catalog.js";
import { RunView, watch, startRun, verdictText } from "./trace.js";
import { keepToken } from "./controls.js";
import { recordLevel, level } from "./progress.js";

const panel = document.querySelector("[data-testid=run-panel]");
const t = texts();
const form = panel.querySelector("form");
const refused = panel.querySelector("[data-testid=refused]");
const refusedText = panel.querySelector("[data-testid=refused-text]");
const errorBox = panel.querySelector("[data-testid=run-error]");
const verdictBox = panel.querySelector("[data-testid=sandbox-verdict]");
const runs = panel.querySelector("[data-testid=runs]");
const share = panel.querySelector("[data-testid=share-link]");
const runButton = form.querySelector("[data-testid=run-button]");
const levelID = panel.dataset.level;
// The level's start; its JSON leaves out an interval of 0.
const start = levelID ? { auto_commit_interval_ms: 0, ...JSON.parse(panel.dataset.start) } : null;
// The knobs, as the page's table lists them (lessons.Knobs).
const KNOBS = [...form.querySelectorAll("tr[data-knob]")].map((tr) => tr.dataset.knob);
const isFlag = (k) => form.elements[k].type === "checkbox";
const isNumber = (k) => form.elements[k].type === "number";

panel.querySelector("[data-testid=nojs]").hidden = true;

// settings reads the form's knobs as the API's settings object.
function settings() {
  const s = {};
  for (const k of KNOBS) {
    const input = form.elements[k];
    if (isFlag(k)) s[k] = input.checked;
    else if (isNumber(k)) s[k] = input.value === "" ? 0 : Number(input.value);
    else s[k] = input.value;
  }
  if (s.commit !== "auto") s.auto_commit_interval_ms = 0;
  // Only commit after has a revocation commit (checkSettings).
  if (s.commit !== "after") s.commit_on_revoke = false;
  return s;
}

const claim = () => new FormData(form).get("claim");
const faultID = () => new FormData(form).get("fault");

// query is the configuration as /sandbox's query string.
function query() {
  const s = settings();
  const q = new URLSearchParams({ claim: claim(), fault: faultID() });
  for (const k of KNOBS) if (k !== "auto_commit_interval_ms" || s.commit === "auto") q.set(k, String(s[k]));
  return q;
}

// changes counts the knobs that differ from the level's start, as
// lessons.Changes does: the interval only between two auto commits.
const changes = (s) => KNOBS.filter((k) => s[k] !== start[k] && (k !== "auto_commit_interval_ms" || (s.commit === "auto" && start.commit === "auto"))).length;

// recipe is what Settings.Recipe (lessons/sandbox.go) makes of s, as far
// as the picture draws it: kafka-go has no idempotent writer.
const recipe = (s) => ({ client: s.idempotent || s.transactional ? "franz-go" : "kafka-go", acks: s.acks, idempotent: s.idempotent, transactional: s.transactional, commit: s.commit });

// refresh follows a change of the form: the interval only with commit
// auto, the client lines and share link from the server (or the rule a
// client refuses the settings with), the changes of a level.
let asked = 0;
async function refresh() {
  form.elements.auto_commit_interval_ms.disabled = form.elements.commit.value !== "auto" || form.elements.auto_commit_interval_ms.closest("tr").hasAttribute("data-frozen");
  if (form.elements.commit.value === "auto" && form.elements.auto_commit_interval_ms.value === "") form.elements.auto_commit_interval_ms.value = "1000";
  form.elements.commit_on_revoke.disabled = form.elements.commit.value !== "after" || form.elements.commit_on_revoke.closest("tr").hasAttribute("data-frozen");
  if (levelID) {
    form.querySelector("[data-testid=level-changes]").textContent = `${t["level.changes"]}: ${changes(settings())}`;
  }
  const q = query();
  const mine = ++asked;
  const resp = await fetch(`/api/sandbox/lines?${q}`);
  const out = await resp.json().catch(() => ({ error: resp.statusText }));
  if (mine !== asked) return; // a later change answered first
  const refusal = resp.ok ? out.refused : out.error;
  refused.hidden = !refusal;
  runButton.disabled = !!refusal;
  if (refusal) {
    refusedText.textContent = refusal;
    return;
  }
  for (const l of out.lines) {
    const pre = document.querySelector(`pre[data-client="${CSS.escape(l.client)}"] code`);
    if (pre) pre.textContent = l.code;
  }
  if (share) {
    share.href = out.share;
    history.replaceState(null, "", `${out.share}&lang=${encodeURIComponent(document.documentElement.lang)}`);
    // The other language keeps the configuration too.
    const other = document.querySelector("[data-testid=lang-switch]");
    other.href = `${out.share}&lang=${encodeURIComponent(other.hreflang)}`;
  }
}
form.addEventListener("change", refresh);
form.addEventListener("input", (ev) => { if (ev.target.type === "number") refresh(); });

// showVerdict says whether the run kept the claim, what the claim table's
// rules predicted, and which settings are to blame.
function showVerdict(st) {
  const r = st.result;
  verdictBox.replaceChildren();
  if (!r) return;
  const held = r.verdict === "held";
  const head = document.createElement("p");
  head.className = `verdict ${r.verdict}`;
  head.dataset.testid = "claim-verdict";
  head.dataset.verdict = r.verdict;
  head.textContent = `${verdictText(t, r.verdict)} — ${t[held ? "sandbox.verdict.held" : "sandbox.verdict.violated"]} ${st.claim} (${st.fault})`;
  verdictBox.append(head);
  if (r.blame?.length) {
    const h = document.createElement("h3");
    h.textContent = t["sandbox.blame"];
    const ul = document.createElement("ul");
    ul.dataset.testid = "blame";
    for (const b of r.blame) {
      const li = document.createElement("li");
      const code = document.createElement("code");
      code.textContent = b.settings.join(" / ");
      li.append(code, ` — ${t[b.text_key] || b.detail}`);
      li.dataset.setting = b.settings[0];
      ul.append(li);
    }
    verdictBox.append(h, ul);
  }
  if (levelID) {
    const s = settings();
    const rec = recordLevel(levelID, held, changes(s), s);
    const p = document.createElement("p");
    p.dataset.testid = "level-result";
    p.className = held ? "right" : "wrong";
    p.textContent = t[held ? "level.pass" : "level.fail"];
    verdictBox.append(p);
    showBest(rec);
  }
  verdictBox.hidden = false;
}

function showBest(rec) {
  const dd = document.querySelector("[data-testid=level-best]");
  if (dd && rec?.fewest !== null && rec?.fewest !== undefined) dd.textContent = String(rec.fewest);
}

runButton.addEventListener("click", async () => {
  if (!form.reportValidity()) return;
  errorBox.hidden = true;
  verdictBox.hidden = true;
  const f = new FormData(form);
  // The shape the claim table's rules hold for (a rebalance needs a
  // spare partition).
  const shape = catalog.shapes?.[faultID()] || {};
  const req = { preset: "custom", claim: claim(), fault: faultID(), settings: settings(), messages: Number(f.get("messages")), pace_ms: Number(f.get("pace_ms")),
    partitions: shape.partitions, processors: shape.processors };
  if (levelID) req.level = levelID;
  let created;
  try {
    created = await startRun("/api/runs", req);
  } catch (err) {
    errorBox.textContent = `${t["error.start"]} ${err.message}`;
    errorBox.hidden = false;
    return;
  }
  keepToken(created.id, created.control_token);
  const view = new RunView(runs, t, { id: created.id, guarantee: req.claim, preset: "custom", fault: req.fault, messages: req.messages, recipe: recipe(req.settings) });
  view.controls(created.id);
  watch(view, created.ws, showVerdict, () => {
    errorBox.textContent = t["error.socket"];
    errorBox.hidden = false;
  });
});

if (levelID) {
  showBest(level(levelID));
  form.querySelector("[data-testid=reset-button]").addEventListener("click", () => {
    for (const k of KNOBS) {
      const input = form.elements[k];
      if (isFlag(k)) input.checked = !!start[k];
      else input.value = k === "auto_commit_interval_ms" && !start[k] ? "" : String(start[k]);
    }
    refresh();
  });
}
refresh();
