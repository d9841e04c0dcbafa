// trace.js draws one run's live trace from the lab's websocket frames
// (API.md, "Live trace"). Everything from a run is inserted as text, never
// as HTML. Small runs get one cell per deposit; big runs get counts and
// every anomaly.

import { wire, postJSON } from "./controls.js";
import { catalog, failure, fault, injectable, named } from "./catalog.js";

// Above this many deposits, draw counts instead of cells.
const SMALL = catalog.drawn_deposits;

function el(tag, attrs = {}, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") n.textContent = v;
    else if (k === "class") n.className = v;
    else n.setAttribute(k, v);
  }
  for (const k of kids) if (k) n.append(k);
  return n;
}

// short is a deposit id as a cell shows it: d-007 → 7.
const short = (id) => id.replace(/^d-0*/, "");

// verdictText is a verdict as the page words it: ✓ or ✗, then its text.
export const verdictText = (t, verdict) => `${verdict === "held" ? "✓" : "✗"} ${t["verdict." + verdict]}`;

export class RunView {
  constructor(root, t, run) {
    this.t = t;
    this.status = null;
    this.seq = 0; // the last event drawn
    this.small = run.messages <= SMALL;
    this.deposits = new Map(); // id -> {cell, state}
    this.offsets = new Map(); // input offset -> cell
    this.credits = new Map(); // id -> count
    this.faults = new Map(); // id -> fault name
    this.crashed = ""; // the fault that crashed the processor right after a deposit, if any
    this.root = el("article", { class: "run", "data-testid": "run", "data-run": run.id });
    const title = `${named(t, run.guarantee)} · ${named(t, run.preset)} · ${named(t, run.fault)} · ${run.messages}`;
    this.root.append(el("h3", { text: title }));
    this.bar = el("progress", { max: String(run.messages), value: "0", "aria-label": t["result.credited"] });
    this.counts = el("p", { class: "counts", "data-testid": "counts" });
    // A run the lab has no room for yet waits in its queue.
    this.queued = el("p", { class: "queued", role: "status", "data-testid": "queued", hidden: "" });
    this.root.append(this.queued, this.bar, this.counts);
    if (!this.small) this.root.append(el("p", { class: "note", text: t["trace.big"] }));
    // A run small enough gets its picture; its lanes stay as the text
    // equivalent, one click away. Charts are for large runs only. Either
    // module loads when a run is shown (a lesson page only read never needs
    // one: the page's budget), and catches up with what came before it.
    const holder = el("div");
    this.root.append(holder);
    this.drawingQueue = [];
    const drawing = this.small ? import("./picture.js").then(({ Picture }) => new Picture(holder, t, run))
      : import("./charts.js").then(({ Charts }) => new Charts(holder, t, run));
    drawing.then((d) => {
      for (const [k, v] of this.drawingQueue) d[k](v);
      this.drawingQueue = null;
      if (this.small) this.picture = d;
      else this.charts = d;
    });
    const lanes = this.small ? el("details", { class: "as-text" }, el("summary", { text: t["pic.events"] })) : this.root;
    if (this.small) this.root.append(lanes);
    this.lanes = {};
    for (const lane of ["producer", "broker", "processor", "ledger"]) {
      // The processor's lane scrolls: keyboard-reachable, named by its lane.
      const body = el("div", lane === "processor" ? { class: "lane-body", tabindex: "0", role: "group", "aria-label": t[`trace.${lane}`] } : { class: "lane-body" });
      const sec = el("section", { class: `lane lane-${lane}`, "data-testid": `lane-${lane}` },
        el("h4", { text: t[`trace.${lane}`] }), body);
      this.lanes[lane] = body;
      lanes.append(sec);
    }
    this.balance = el("p", { class: "balance", "data-testid": "balance" });
    this.verdict = el("section", { class: "verdict", "data-testid": "verdict", hidden: "" });
    this.root.append(this.balance, this.verdict);
    root.prepend(this.root);
  }

  // controls adds pause / step / resume / fault-now buttons for a run this
  // browser holds the token of.
  controls(id) {
    const t = this.t;
    const bar = el("div", { class: "controls", "data-testid": "controls" });
    for (const a of ["pause", "step", "resume"]) {
      bar.append(el("button", { type: "button", "data-action": a, "data-testid": a, text: t[`control.${a}`] }));
    }
    const sel = el("select", { name: "fault", "aria-label": t["control.fault"] });
    for (const f of injectable()) sel.append(el("option", { value: f.id, text: named(t, f.id) }));
    bar.append(el("label", {}, t["control.fault"], sel));
    bar.append(el("button", { type: "button", "data-action": "fault", text: t["control.inject"] }));
    const err = el("p", { class: "error", role: "alert", hidden: "" });
    this.root.querySelector("h3").after(bar, err);
    wire(bar, id, err, false);
  }

  handle(msg) {
    switch (msg.type) {
      case "snapshot":
        this.status = msg.run;
        (msg.events || []).forEach((e) => this.once(e));
        this.progress({ ...msg.run.progress, state: msg.run.state, queue_position: msg.run.queue_position });
        break;
      case "events":
        if (msg.skipped) this.note(`… ${msg.skipped}`);
        msg.events.forEach((e) => this.once(e));
        break;
      case "progress":
        this.progress(msg);
        break;
      case "result":
        this.status = msg.run;
        this.result(msg.run);
        break;
    }
  }

  // toDrawing hands a run's picture (add, pause, done) or a large run's
  // charts (progress, done) what it draws, keeping it until the drawing's
  // module has loaded.
  toDrawing(what, v) {
    const to = this.picture || this.charts;
    if (to) to[what](v);
    else if (this.drawingQueue) this.drawingQueue.push([what, v]);
  }

  // once draws an event it has not drawn yet: the frame after a snapshot
  // may repeat the snapshot's last events.
  once(e) {
    if (e.seq && e.seq <= this.seq) return;
    if (e.seq) this.seq = e.seq;
    this.event(e);
  }

  note(text) {
    this.lanes.processor.append(el("div", { class: "ev note", text }));
  }

  progress(p) {
    this.queue(p.state, p.queue_position);
    if (!this.small) this.toDrawing("progress", p);
    else if (p.paused !== undefined) this.toDrawing("pause", p.paused);
    this.bar.value = p.credited || 0;
    this.counts.textContent = `${this.t["result.sent"]} ${p.sent || 0} · ${this.t["result.acked"]} ${p.acked || 0} · ${this.t["result.credited"]} ${p.credited || 0}`;
    const expected = this.status ? this.status.messages : 0;
    this.balance.textContent = `${this.t["trace.balance"]}: ${p.credited || 0} / ${this.t["trace.expected"]} ${expected}`;
  }

  // queue shows "queued, N ahead" while the run waits for room.
  queue(state, ahead) {
    this.queued.hidden = state !== "queued";
    if (state === "queued") this.queued.textContent = this.t["trace.queued"].replaceAll("{n}", String(ahead ?? 0));
  }

  deposit(id) {
    let d = this.deposits.get(id);
    if (!d) {
      d = { cell: el("span", { class: "cell sent", title: id, text: short(id) }) };
      this.deposits.set(id, d);
      if (this.small) this.lanes.producer.append(d.cell);
    }
    return d;
  }

  event(e) {
    const t = this.t;
    const id = e.id || "";
    if (this.small) this.toDrawing("add", e);
    switch (e.kind) {
      case "send":
        this.deposit(id);
        break;
      case "ack":
        this.deposit(id).cell.classList.add("acked");
        break;
      case "error": {
        const d = this.deposit(id);
        d.cell.classList.add("failed");
        d.cell.setAttribute("aria-label", `${id} ✗`);
        break;
      }
      case "fault":
        if (id) {
          this.faults.set(id, e.fault);
          const d = this.deposit(id);
          d.cell.classList.add("hit");
        } else if (e.fault) {
          const what = e.phase === "armed" ? t["trace.armed"] : t[fault(e.fault)?.text_key] || e.detail || "";
          this.lanes.processor.append(el("div", { class: "ev fault", title: e.detail || "", text: `⚠ ${named(this.t, e.fault)} — ${what}` }));
        } else {
          this.lanes.processor.append(el("div", { class: "ev fault", text: `⚠ ${e.detail || ""}` }));
        }
        break;
      case "fetch":
        if (id === "end") break;
        if (this.small && !this.offsets.has(e.offset)) {
          const cell = el("span", { class: "cell offset", title: `${id} @${e.offset}`, text: `${e.offset}:${short(id)}` });
          this.offsets.set(e.offset, cell);
          this.lanes.broker.append(cell);
          const seen = [...this.offsets.values()].filter((c) => c.title.startsWith(id + " "));
          if (seen.length > 1) seen.forEach((c) => c.classList.add("dup-in-log"));
        }
        break;
      case "commit":
      case "txn-commit":
        this.lanes.processor.append(el("div", { class: "ev commit", text: `${e.instance || ""} ${named(this.t, e.kind)}${e.offset >= 0 ? ` → ${e.offset}` : ""}` }));
        this.lanes.broker.querySelectorAll(".committed").forEach((c) => c.classList.remove("committed"));
        { const c = this.offsets.get(e.offset - 1); if (c) c.classList.add("committed"); }
        break;
      case "txn-abort":
      case "crash":
      case "restart":
        if (e.kind === "crash" && id) this.crashed = e.fault;
        this.lanes.processor.append(el("div", { class: `ev ${e.kind}`, title: e.detail || "", text: `${e.kind === "crash" ? "⚡" : "↻"} ${e.instance ? e.instance + ": " : ""}${t[`trace.${e.kind}`] || e.detail || e.kind}` }));
        break;
      // processor-stall: the instance freezes, wakes as a zombie, and the
      // broker may fence it (broker_error names the broker's error).
      case "stall":
        if (id) this.crashed = e.fault;
        this.lanes.processor.append(el("div", { class: "ev stall", title: e.detail || "", text: `‖ ${e.instance ? e.instance + ": " : ""}${id} — ${t["trace.stall"] || e.detail || e.kind}` }));
        break;
      case "wake":
        this.lanes.processor.append(el("div", { class: "ev wake", title: e.detail || "", text: `▶ ${e.instance ? e.instance + ": " : ""}${t["trace.wake"] || e.detail || e.kind}` }));
        break;
      case "fenced":
        this.lanes.processor.append(el("div", { class: "ev fenced", "data-testid": "fenced", title: e.detail || "", text: `⊘ ${e.instance ? e.instance + ": " : ""}${t["trace.fenced"] || e.kind} (${e.broker_error || "?"})` }));
        break;
      // Notifications are outside Kafka: a repeat is a customer told twice
      // (or one an idempotent receiver dropped).
      case "notify":
      case "notify-dropped":
        // One event per batch: id is its first deposit, attempt how many.
        this.lanes.processor.append(el("div", { class: `ev ${e.kind === "notify" ? "notify-again" : "notify-dropped"}`, title: e.detail || "",
          text: `✉ ${e.instance ? e.instance + ": " : ""}${id}${e.attempt > 1 ? ` (${e.attempt})` : ""} — ${t[e.kind === "notify" ? "trace.notify.again" : "trace.notify.dropped"] || e.detail}` }));
        break;
      case "skip":
        if (this.small) this.lanes.processor.append(el("div", { class: "ev skip", title: e.detail || "", text: `⤼ ${e.instance ? e.instance + ": " : ""}${id} — ${t["trace.skip"] || e.detail || e.kind}` }));
        break;
      case "credit": {
        const n = (this.credits.get(id) || 0) + 1;
        this.credits.set(id, n);
        if (this.small) {
          const cell = el("span", { class: "cell credit", title: id, text: short(id) });
          if (n > 1) {
            cell.classList.add("dup");
            cell.textContent += ` ×${n}`;
            this.lanes.ledger.querySelectorAll(`[title="${CSS.escape(id)}"]`).forEach((c) => c.classList.add("dup"));
          }
          this.lanes.ledger.append(cell);
        }
        break;
      }
      case "audit":
        this.audited(id, e.detail);
        break;
      // A cluster fault's step: who leads the input partition, who is in
      // sync, what the lab did to each broker.
      case "replicas": {
        const r = e.replicas;
        if (!r) break;
        const brokers = r.brokers.map((b) => `${b.id}: ${t[`pic.rep.state.${b.state}`]}`).join(", ");
        this.lanes.broker.append(el("div", { class: "ev replicas", "data-testid": "replicas", text: `${t["pic.rep.leader"]} ${r.leader < 0 ? "–" : r.leader} · ISR ${r.isr} · ${brokers}` }));
        break;
      }
    }
  }

  audited(id, what) {
    const d = this.deposits.get(id);
    if (d) d.cell.classList.add(what);
  }

  // explain says why deposit id is what the checker found (lost,
  // duplicated…): the catalog names, per fault, the text that explains each
  // anomaly; the fault is the one that hit the deposit, else a crash. The
  // id and the text are joined by ": ", so a text never leans on the id for
  // its subject (no Korean particle after an id: "d-000010: 유실되었습니다").
  explain(id, what) {
    const cause = this.faults.get(id) || this.crashed;
    return (cause && fault(cause)?.explains?.[what]) || `explain.${what}`;
  }

  // explained groups deposits of one class by what explains them: one line
  // per cause ("d-000011 … d-000020 (10): credited twice — …"), not one
  // per deposit. count is the class's full count (the id list is capped).
  explained(ids, what, count) {
    const groups = new Map();
    for (const id of ids) {
      const key = this.explain(id, what);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(id);
    }
    return [...groups].map(([key, g]) => {
      const n = groups.size === 1 ? count : g.length;
      const who = g.length <= 3 ? g.join(", ") : `${g[0]} … ${g[g.length - 1]}`;
      return el("li", { class: what, text: `${who}${n > 1 ? ` (${n})` : ""}: ${this.t[key]}` });
    });
  }

  // expected says whether the run came out as the lesson (the catalog's
  // claim table) says a run of its guarantee, preset and fault does.
  expected(r) {
    const t = this.t;
    if (!r.expected) return el("p", { class: "expected", "data-testid": "expected", text: t["expect.none"] });
    const c = r.expected;
    const claimed = `${t["result.lost"]} ${t["claim." + c.lost]} · ${t["result.duplicated"]} ${t["claim." + c.duplicated]} · ${verdictText(t, c.verdict)}`;
    const ok = !r.mismatch;
    return el("p", { class: `expected ${ok ? "right" : "wrong"}`, "data-testid": "expected", "data-as-claimed": String(ok),
      text: `${ok ? "✓" : "✗"} ${t[ok ? "expect.ok" : "expect.differs"]} ${claimed}${ok ? "" : ` (${r.mismatch})`}` });
  }

  // judgePrediction sets the learner's guess beside what the run found,
  // question by question (lost, duplicated, recovered: none or some; the
  // balance: less than, exactly or more than the deposits sent), and says
  // which were right. It returns, for the progress record, whether every
  // answered question was right, and each question's guess and outcome.
  judgePrediction(guess, run) {
    const t = this.t;
    const r = run.result;
    if (!r) return null;
    const n = r.expected_balance;
    const noneOrSome = (count) => (count > 0 ? "some" : "none");
    const questions = [
      ["lost", "predict.lost", noneOrSome(r.lost), String(r.lost)],
      ["dup", "predict.dup", noneOrSome(r.duplicated), String(r.duplicated)],
      ["recovered", "predict.recovered", noneOrSome(r.recovered), String(r.recovered)],
      ["balance", "predict.balance", r.balance < n ? "less" : r.balance > n ? "more" : "equal", `${t["trace.balance"]} ${r.balance}`],
    ];
    const say = (key) => (t[key] || key).replaceAll("{n}", String(n));
    const ul = el("ul", { class: "prediction-result", "data-testid": "prediction-result" });
    const items = [];
    let right = true;
    for (const [k, question, actual, measured] of questions) {
      const g = guess[k];
      const ok = g === actual;
      if (g) right &&= ok;
      items.push({ q: k, guess: g || "", actual, right: g ? ok : null });
      const mark = !g ? "–" : ok ? `✓ ${t["predict.right"]}` : `✗ ${t["predict.wrong"]}`;
      ul.append(el("li", { class: !g ? "unguessed" : ok ? "right" : "wrong", "data-question": k },
        el("span", { class: "q", text: `${say(question)}: ` }),
        el("span", { text: `${t["predict.guess"]} ${g ? say("predict." + g) : t["predict.skipped"]} · ${t["predict.outcome"]} ${say("predict." + actual)} (${measured}) · ` }),
        el("strong", { text: mark })));
    }
    this.verdict.append(el("h5", { text: t["predict.against"] }), ul);
    return { right, items };
  }

  result(run) {
    const t = this.t;
    const v = this.verdict;
    this.toDrawing("done", run);
    v.replaceChildren();
    v.hidden = false;
    if (run.state === "failed") {
      v.className = "verdict failed";
      v.append(el("p", { role: "alert", "data-testid": "run-failed", text: `${t["error.run"]} ${failure(t, run)}` }));
      return;
    }
    const r = run.result;
    v.className = `verdict ${r.verdict}`;
    v.append(el("h4", { "data-testid": "verdict-word", text: `${t["verdict.title"]}: ${verdictText(t, r.verdict)}` }));
    const dl = el("dl", { class: "numbers", "data-testid": "numbers" });
    const metric = (label, field, value) =>
      dl.append(el("div", {}, el("dt", { text: label }), el("dd", { "data-field": field, text: String(value) })));
    for (const k of ["sent", "acked", "credited", "lost", "duplicated", "recovered", "unexpected", "balance"]) {
      metric(t[`result.${k}`], k, r[k]);
    }
    if (r.deduplicated) metric(t["result.deduplicated"], "deduplicated", r.deduplicated);
    metric(t["result.side_effects"], "side_effects", r.side_effects ?? 0);
    metric(t["result.side_effects_duplicated"], "side_effects_duplicated", r.side_effects_duplicated ?? 0);
    if (r.takeover_ms) metric(t["result.takeover"], "takeover", Math.round(r.takeover_ms));
    metric(t["result.throughput"], "throughput", Math.round(r.throughput_msgs_per_s));
    metric(t["result.p50"], "p50", r.latency_ms.p50);
    metric(t["result.p95"], "p95", r.latency_ms.p95);
    metric(t["result.p99"], "p99", r.latency_ms.p99);
    v.append(dl);
    v.append(this.expected(r));
    const ul = el("ul", { class: "explain", "data-testid": "explain" });
    for (const what of ["lost", "duplicated", "recovered", "unexpected"]) ul.append(...this.explained(r[`${what}_ids`] || [], what, r[what]));
    if (!ul.children.length) ul.append(el("li", { text: t["explain.none"] }));
    v.append(ul);
    v.append(el("p", { class: "topics", text: `${t["result.topics"]} ${run.topics.input}, ${run.topics.ledger}` }));
    if (!this.root.dataset.replay) {
      v.append(el("p", {}, el("a", { href: `/api/runs/${encodeURIComponent(run.id)}/trace`, download: `${run.id}.json`, "data-testid": "download", text: t["replay.download"] })));
    }
    this.bar.value = this.bar.max;
    this.balance.textContent = `${t["trace.balance"]}: ${r.balance} / ${t["trace.expected"]} ${r.expected_balance}`;
  }
}

// watch opens the run's websocket and feeds a RunView until the result.
export function watch(view, wsPath, onResult, onError) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}${wsPath}`);
  let done = false;
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    view.handle(msg);
    if (msg.type === "result") {
      done = true;
      if (onResult) onResult(msg.run);
    }
  };
  ws.onclose = () => { if (!done && onError) onError(); };
  return ws;
}

// startRun posts a run request and returns the API's answer or throws the
// API's error sentence.
export const startRun = (path, body) => postJSON(path, body);
