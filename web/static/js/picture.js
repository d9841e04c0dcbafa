// picture.js draws one run as a diagram, from its trace events:
//
//   producer → input topic → processor instances → ledger → checker
//
// Model is what the events say up to a moment (so a slider can rebuild any
// moment); Picture draws a Model as SVG, with a caption that names the
// latest key moment, and lets a learner follow one deposit everywhere it
// appears. Everything from a run is set as text, never parsed as markup.

import { catalog } from "./catalog.js";

const SVG = "http://www.w3.org/2000/svg";
const short = (id) => (id || "").replace(/^d-0*/, "");

// Model is the state of a run after some of its events.
export class Model {
  constructor() {
    this.n = 0; // events applied
    this.deposits = new Map(); // id -> {sent, acked, failed, hit, offsets: [], credits: 0}
    this.log = new Map(); // input offset -> id
    this.fetchedBy = new Map(); // input offset -> Set(instance)
    this.committed = -1; // the group's committed offset (the next to read)
    this.hw = -1; // the input's high watermark: the offset its next record gets
    this.lso = -1; // its last stable offset: read_committed readers read no further
    this.instances = new Map(); // name -> {gen, epoch, state, after, fencedBy}
    this.credits = []; // ledger credits as they became visible: {id, instance}
    this.records = []; // the ledger as read back after the run: {offset, id, aborted}
    this.moment = null; // the latest key moment: {key, args}
    this.lastCredited = new Map(); // instance -> highest input offset it credited
  }

  deposit(id) {
    let d = this.deposits.get(id);
    if (!d) {
      d = { sent: false, acked: false, failed: false, hit: "", attempt: 1, offsets: [], credits: 0, history: [] };
      this.deposits.set(id, d);
    }
    return d;
  }

  instance(name) {
    let p = this.instances.get(name);
    if (!p) {
      p = { gen: 0, epoch: null, state: "running", after: "", fencedBy: "" };
      this.instances.set(name, p);
    }
    return p;
  }

  // apply folds one event into the model.
  apply(e) {
    this.n++;
    const id = e.id || "";
    const isDeposit = id.startsWith("d-");
    const d = isDeposit ? this.deposit(id) : null;
    if (d) d.history.push(e);
    switch (e.kind) {
      case "send":
        d.sent = true;
        break;
      case "ack":
        d.acked = true;
        break;
      case "retry":
        if (!d) break;
        d.attempt = e.attempt || 2;
        this.moment = { key: "pic.retry", id, n: d.attempt };
        break;
      case "watermarks":
        this.hw = e.offset;
        this.lso = e.lso ?? e.offset;
        break;
      case "error":
        if (d) d.failed = true;
        break;
      case "fault":
        if (d && e.phase === "struck") d.hit = e.fault;
        else if (!id && e.fault && e.phase === "struck") this.moment = { key: "pic.struck", fault: e.fault, detail: e.detail };
        else if (!id && e.phase === "armed") this.moment = { key: "pic.armed", fault: e.fault };
        break;
      case "fetch":
        if (id === "end") this.log.set(e.offset, id); // the lab's end marker
        if (!d) break;
        if (!this.log.has(e.offset)) this.log.set(e.offset, id);
        if (!d.offsets.includes(e.offset)) d.offsets.push(e.offset);
        if (e.instance) {
          this.instance(e.instance);
          if (!this.fetchedBy.has(e.offset)) this.fetchedBy.set(e.offset, new Set());
          this.fetchedBy.get(e.offset).add(e.instance);
        }
        break;
      case "credit":
        if (!d) break;
        d.credits++;
        this.credits.push({ id, instance: e.instance || "" });
        if (d.credits > 1) this.moment = { key: "pic.dup", id, n: d.credits };
        if (e.instance) {
          const off = Math.max(...d.offsets, -1);
          this.lastCredited.set(e.instance, Math.max(this.lastCredited.get(e.instance) ?? -1, off));
        }
        break;
      case "commit":
      case "txn-commit":
        if (e.actor !== "processor") break;
        this.committed = e.offset;
        if (e.instance) this.identity(e);
        break;
      case "txn-begin":
        if (e.actor === "processor" && e.instance) this.identity(e);
        break;
      case "crash": {
        const p = this.instance(e.instance || "?");
        p.state = "crashed";
        p.after = id;
        this.moment = { key: "pic.crash", instance: e.instance, id };
        break;
      }
      case "restart":
        this.instance(e.instance || "?");
        this.moment = { key: "pic.restart", instance: e.instance, offset: this.committed };
        break;
      case "txn-abort":
        this.moment = { key: "pic.abort", instance: e.instance };
        break;
      case "record":
        this.records.push({ offset: e.offset, id, aborted: !!e.aborted });
        break;
      case "run":
        if (e.actor === "auditor" && (e.detail || "").startsWith("verdict")) this.moment = { key: "pic.audited" };
        break;
    }
  }

  // identity records an instance's generation and epoch, and fences the
  // crashed instances an instance with a newer epoch replaced.
  identity(e) {
    const p = this.instance(e.instance);
    if (e.generation) p.gen = e.generation;
    if (e.kind === "txn-begin" || e.kind === "txn-commit") {
      p.epoch = e.epoch || 0;
      for (const [name, q] of this.instances) {
        if (name !== e.instance && q.state === "crashed" && q.epoch !== null && p.epoch > q.epoch && !q.fencedBy) {
          q.fencedBy = e.instance;
          this.moment = { key: "pic.fenced", instance: e.instance, old: name, epoch: p.epoch };
        }
      }
    }
  }

  // ranges are what a crash left behind on the input topic: offsets the
  // group committed that the crashed instance never credited (skipped),
  // and offsets fetched by two instances (read again).
  ranges() {
    const out = [];
    const again = [...this.fetchedBy].filter(([, s]) => s.size > 1).map(([o]) => o).sort((a, b) => a - b);
    if (again.length) out.push({ kind: "again", from: again[0], to: again[again.length - 1] });
    for (const [name, p] of this.instances) {
      if (p.state !== "crashed") continue;
      const last = this.lastCredited.get(name) ?? -1;
      const skipped = [...this.log.keys()].filter((o) => o > last && o < this.committed && !(this.fetchedBy.get(o)?.size > 1) &&
        this.deposits.get(this.log.get(o))?.credits === 0).sort((a, b) => a - b);
      if (skipped.length) out.push({ kind: "skipped", from: skipped[0], to: skipped[skipped.length - 1] });
    }
    return out;
  }
}

// format fills a text's {name} placeholders with values, as text.
const format = (s, args) => (s || "").replace(/\{(\w+)\}/g, (_, k) => String(args[k] ?? ""));

function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

// Sizes in the SVG's own units: a cell, the gap between cells, a row of
// cells, a band's heading.
const CELL = 30, GAP = 4, ROW = 34, HEAD = 20;

// Picture draws a run's Model and keeps it up to date.
export class Picture {
  constructor(parent, t, run) {
    this.t = t;
    this.run = run;
    this.events = [];
    this.model = new Model();
    this.focus = ""; // the deposit being followed
    this.view = "committed"; // the ledger as read_committed or read_uncommitted readers see it
    this.result = null;
    // A custom run (the sandbox) brings its own recipe.
    this.recipe = run.recipe || (catalog.recipes || []).find((r) => r.guarantee === run.guarantee && r.preset === run.preset) || {};
    this.root = document.createElement("figure");
    this.root.className = "picture";
    this.root.dataset.testid = "picture";
    // A group, not an image: its cells are buttons, to follow a deposit.
    this.svg = svg("svg", { role: "group" });
    // The boxes, kept between frames, over everything else, redrawn each.
    this.chrome = svg("g");
    // One layer per band (producer, log, credits), moved as a whole when
    // a band above it grows, so its boxes keep their own coordinates.
    this.layers = { p: svg("g"), l: svg("g"), c: svg("g") };
    this.boxes = new Map(); // key -> {g, state}
    this.svg.append(this.chrome, ...Object.values(this.layers));
    this.caption = document.createElement("figcaption");
    this.caption.className = "caption";
    this.caption.setAttribute("aria-live", "polite");
    this.caption.dataset.testid = "caption";
    const tools = document.createElement("div");
    tools.className = "picture-tools";
    this.toggle = document.createElement("button");
    this.toggle.type = "button";
    this.toggle.dataset.testid = "isolation";
    this.toggle.setAttribute("aria-pressed", "false");
    this.toggle.addEventListener("click", () => {
      this.view = this.view === "committed" ? "uncommitted" : "committed";
      this.toggle.setAttribute("aria-pressed", String(this.view === "uncommitted"));
      this.draw();
    });
    this.slider = document.createElement("input");
    this.slider.type = "range";
    this.slider.min = "0";
    this.slider.hidden = true;
    this.slider.dataset.testid = "time";
    this.slider.setAttribute("aria-label", t["pic.time"]);
    this.slider.addEventListener("input", () => this.seek(Number(this.slider.value)));
    tools.append(this.toggle, this.slider);
    this.history = document.createElement("ol");
    this.history.className = "history";
    this.history.dataset.testid = "history";
    this.history.hidden = true;
    this.root.append(tools, this.svg, this.caption, this.history);
    this.svg.addEventListener("click", (ev) => this.follow(ev.target.closest("[data-id]")?.dataset.id || ""));
    this.svg.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      const id = ev.target.closest?.("[data-id]")?.dataset.id;
      if (id) { ev.preventDefault(); this.follow(id); }
    });
    parent.append(this.root);
    this.pending = false;
    // The width is read when it changes, not in every frame: reading it
    // after the last frame's changes would make the browser lay out again.
    this.width = Math.max(320, this.root.clientWidth || 900);
    new ResizeObserver(([entry]) => {
      const w = Math.max(320, Math.floor(entry.contentRect.width));
      if (w !== this.width) { this.width = w; this.schedule(); }
    }).observe(this.root);
    this.draw();
  }

  add(e) {
    // Live unless the slider looks back: then the run goes on unseen.
    const live = this.slider.hidden || Number(this.slider.value) === this.events.length;
    this.events.push(e);
    if (!this.slider.hidden) this.slider.max = String(this.events.length);
    if (live) {
      if (!this.slider.hidden) this.slider.value = this.slider.max;
      this.model.apply(e);
      this.schedule();
    }
  }

  // done shows the result, and the slider to look back through the run.
  done(run) {
    this.result = run.result || null;
    this.slider.max = String(this.events.length);
    this.slider.value = String(this.events.length);
    this.slider.hidden = this.events.length === 0;
    this.schedule();
  }

  // pause offers the slider while the run is paused, to look back; on
  // resume the picture follows the run again.
  pause(paused) {
    if (this.result || paused === !this.slider.hidden) return;
    this.slider.hidden = !paused;
    if (paused) {
      this.slider.max = String(this.events.length);
      this.slider.value = String(this.events.length);
    } else {
      this.seek(this.events.length);
    }
  }

  // seek rebuilds the picture as it was after the first n events.
  seek(n) {
    this.model = new Model();
    for (const e of this.events.slice(0, n)) this.model.apply(e);
    this.draw();
  }

  follow(id) {
    this.focus = this.focus === id ? "" : id;
    this.draw();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    const began = performance.now();
    this.render();
    // User Timing: what a frame of the picture costs (the budget test reads it).
    performance.measure("picture.draw", { start: began });
  }

  render() {
    const t = this.t, m = this.model;
    const width = this.width;
    const cols = Math.max(4, Math.floor(width / (CELL + GAP)));
    const out = svg("g");
    let y = 0, top0 = 0; // top0: where the current band's cells start
    // band writes a band's heading, its title and what configures it, and
    // starts its cells under it.
    const band = (title, sub, layer) => {
      const h = svg("text", { x: 0, y: y + 14, class: "band" }, title);
      if (sub) h.append(svg("tspan", { class: "sub", dx: 10 }, sub));
      out.append(h);
      y += HEAD;
      top0 = y;
      if (layer) this.layers[layer].setAttribute("transform", `translate(0,${top0})`);
    };
    const rows = (n) => Math.max(1, Math.ceil(n / cols));
    // Positions within a band's layer.
    const at = (i) => ({ x: (i % cols) * (CELL + GAP), y: Math.floor(i / cols) * ROW });
    // cell draws one box: its label, and a badge in its corner for a
    // second (third…) credit or write: ×2, ²…
    // Boxes are kept from frame to frame by key and rebuilt only when what
    // they show changed: a frame of a 200-deposit run touches a few.
    const used = new Set();
    const cell = (key, p, label, cls, id, title, badge) => {
      used.add(key);
      const state = `${p.x},${p.y}|${cls}|${id === this.focus}|${label}|${badge || ""}|${title || ""}`;
      const kept = this.boxes.get(key);
      if (kept && kept.state === state) return p;
      const g = svg("g", { class: `box ${cls}${id && id === this.focus ? " focus" : ""}`, transform: `translate(${p.x},${p.y})` });
      if (id) {
        g.dataset.id = id;
        g.setAttribute("tabindex", "0");
        g.setAttribute("role", "button");
        // The accessible name starts with what the cell shows.
        g.setAttribute("aria-label", `${label}${badge || ""} — ${title || id}`);
      }
      g.append(svg("rect", { width: CELL, height: ROW - 8, rx: 3 }), svg("text", { x: CELL / 2, y: 17, "text-anchor": "middle" }, label));
      if (badge) g.append(svg("text", { x: CELL - 1, y: 7, "text-anchor": "end", class: "badge" }, badge));
      if (cls.includes("aborted")) g.append(svg("line", { x1: 2, y1: 13, x2: CELL - 2, y2: 13, class: "strike" }));
      if (title) g.append(svg("title", {}, title));
      if (kept) kept.g.replaceWith(g);
      else this.layers[key[0]].append(g);
      this.boxes.set(key, { g, state });
      return p;
    };

    // Producer: one cell per deposit.
    const r = this.recipe;
    let inFlight = 0;
    for (const d of m.deposits.values()) if (d.sent && !d.acked && !d.failed) inFlight++;
    band(t["trace.producer"], [r.client, r.acks && `acks=${r.acks}`, r.idempotent && t["pic.idempotent"], r.transactional && t["pic.transactional"],
      inFlight && `${t["pic.inflight"]} ${inFlight}`].filter(Boolean).join(" · "), "p");
    const ids = [...m.deposits.keys()].filter((id) => m.deposits.get(id).sent).sort();
    ids.forEach((id, i) => {
      const d = m.deposits.get(id);
      const mark = d.failed ? (d.credits || d.offsets.length ? "?" : "✗") : d.acked ? "✓" : "";
      const cls = [d.acked ? "acked" : "sent", d.failed ? "failed" : "", d.hit ? "hit" : ""].join(" ");
      cell("p" + id, at(i), short(id) + mark, cls, id, `${id}: ${this.states(d).join(", ")}`, d.attempt > 1 ? `↻${d.attempt}` : "");
    });
    y += rows(ids.length) * ROW + GAP * 2;

    // Input topic: one cell per offset; a gap is a transaction marker.
    const marks = [t["pic.partition"]];
    if (m.hw >= 0) marks.push(`${t["pic.hw"]} ${m.hw}`, `${t["pic.lso"]} ${m.lso}`);
    band(t["pic.input"], marks.join(" · "), "l");
    const offsets = [...m.log.keys()];
    const top = offsets.length ? Math.max(...offsets, m.committed - 1) : -1;
    // Each row of the log leaves room under it for the group's committed
    // offset (the next it reads), a pointer, and for what a crash left
    // behind, brackets.
    const ROWLOG = ROW + 14;
    const logAt = (i) => ({ x: (i % cols) * (CELL + GAP), y: Math.floor(i / cols) * ROWLOG });
    for (let o = 0; o <= top; o++) {
      const id = m.log.get(o);
      if (id === "end") {
        cell("l" + o, logAt(o), "end", "marker end", "", t["pic.end"]);
      } else if (id) {
        const dupInLog = m.deposits.get(id).offsets.length > 1;
        cell("l" + o, logAt(o), short(id), `record${dupInLog ? " dup" : ""}`, id, `${t["pic.offset"]} ${o}: ${id}`, dupInLog ? "×" + m.deposits.get(id).offsets.length : "");
      } else {
        cell("l" + o, logAt(o), "c", "marker", "", t["pic.marker"]);
      }
    }
    y += rows(Math.max(top + 1, m.committed + 1)) * ROWLOG;
    const onLog = (i) => { const p = logAt(i); return { x: p.x, y: p.y + top0 }; };
    if (m.committed >= 0) {
      const p = onLog(m.committed);
      out.append(svg("path", { d: `M${p.x + CELL / 2} ${p.y + ROW - 6} l-6 10 h12 z`, class: "pointer" }));
      const left = p.x > width / 2; // near the right edge, the label goes left
      out.append(svg("text", { x: p.x + CELL / 2 + (left ? -9 : 9), y: p.y + ROW + 4, class: "pointer-label", "text-anchor": left ? "end" : "start" }, `${t["pic.committed"]} ${m.committed}`));
    }
    // Between the LSO and the high watermark a transaction is open:
    // read_committed readers wait there.
    if (m.lso >= 0 && m.lso < m.hw) {
      const a = onLog(m.lso), b = onLog(Math.min(m.hw - 1, top));
      if (a.y === b.y) {
        const open = svg("path", { d: `M${a.x} ${a.y - 3} H${b.x + CELL}`, class: "open-txn" });
        open.append(svg("title", {}, t["pic.open"]));
        out.append(open);
      }
    }
    for (const rg of m.ranges()) {
      const a = onLog(rg.from), b = onLog(rg.to);
      if (a.y !== b.y) continue; // a range over two rows is named by its cells' marks only
      out.append(svg("path", { d: `M${a.x} ${a.y + ROW - 4} v4 H${b.x + CELL} v-4`, class: `range ${rg.kind}` }));
      out.append(svg("text", { x: a.x, y: a.y + ROW + 9, class: `range-label ${rg.kind}` }, t[`pic.${rg.kind}`]));
    }
    y += GAP;

    // Processor instances.
    band(t["trace.processor"], [r.commit && `${t["pic.commit"]}: ${r.commit}`, r.isolation].filter(Boolean).join(" · "));
    let x = 0;
    for (const [name, p] of m.instances) {
      const w = 250;
      const g = svg("g", { class: `instance ${p.state}${p.fencedBy ? " fenced" : ""}`, transform: `translate(${x},${y})` });
      g.append(svg("rect", { width: w, height: 60, rx: 5 }));
      const id = [name, p.gen ? `gen ${p.gen}` : "", p.epoch !== null ? `epoch ${p.epoch}` : ""].filter(Boolean).join(" · ");
      g.append(svg("text", { x: 8, y: 17, class: "name" }, id));
      g.append(svg("text", { x: 8, y: 35 }, p.state === "crashed" ? `✗ ${format(t["pic.crashed"], { id: short(p.after) })}` : t[this.result ? "pic.finished" : "pic.running"]));
      if (p.fencedBy) g.append(svg("text", { x: 8, y: 52 }, format(t["pic.fencedby"], { by: p.fencedBy })));
      out.append(g);
      x += w + 12;
      if (x + w > width) { x = 0; y += 68; }
    }
    y += 72;

    // Ledger: credits as they became visible; after the run, as read back.
    // Only a ledger written in transactions has credits read_committed
    // readers do not see.
    const txnLedger = this.recipe.commit === "transaction";
    const uncommitted = txnLedger && this.view === "uncommitted";
    band(t["trace.ledger"], txnLedger ? (uncommitted ? "read_uncommitted" : "read_committed") : "", "c");
    const seen = new Map();
    let cells = [];
    if (m.records.length) {
      for (const rec of m.records) {
        if (rec.aborted && !uncommitted) continue;
        const n = rec.aborted ? 0 : (seen.get(rec.id) || 0) + 1;
        if (!rec.aborted) seen.set(rec.id, n);
        cells.push({ id: rec.id, label: short(rec.id), badge: n > 1 ? `×${n}` : "", cls: rec.aborted ? "credit aborted" : `credit${n > 1 ? " dup" : ""}`,
          title: rec.aborted ? `${rec.id} — ${t["pic.aborted"]}` : rec.id });
      }
    } else {
      for (const c of m.credits) {
        const n = (seen.get(c.id) || 0) + 1;
        seen.set(c.id, n);
        cells.push({ id: c.id, label: short(c.id), badge: n > 1 ? `×${n}` : "", cls: `credit${n > 1 ? " dup" : ""}`, title: c.id });
      }
    }
    cells.forEach((c, i) => {
      cell("c" + i, at(i), c.label, c.cls, c.id, c.title, c.badge);
    });
    const aborted = m.records.filter((rec) => rec.aborted).length;
    this.toggle.hidden = !txnLedger;
    this.toggle.textContent = uncommitted ? t["pic.show.committed"] : format(t["pic.show.uncommitted"], { n: aborted });
    y += rows(cells.length) * ROW + GAP * 2;

    // Checker.
    band(t["pic.checker"]);
    const res = this.result;
    const balance = res ? res.balance : m.credits.length;
    const parts = [`${t["trace.balance"]} ${balance} / ${this.run.messages}`];
    if (res) {
      parts.push(`${t["result.lost"]} ${res.lost}`, `${t["result.duplicated"]} ${res.duplicated}`, `${t["result.recovered"]} ${res.recovered}`);
      if (txnLedger) parts.push(`${t["pic.aborted.count"]} ${res.aborted_credits}`);
      parts.push(`${res.verdict === "held" ? "✓" : "✗"} ${t["verdict." + res.verdict]}`);
    }
    out.append(svg("text", { x: 0, y: y + 14, class: `checker${res ? " " + res.verdict : ""}` }, parts.join("   ")));
    y += 22;

    this.svg.setAttribute("viewBox", `0 0 ${width} ${y}`);
    this.svg.setAttribute("width", String(width));
    this.svg.setAttribute("height", String(y));
    this.svg.setAttribute("aria-label", `${t["pic.label"]}: ${this.captionText()}`);
    for (const [key, box] of this.boxes) {
      if (!used.has(key)) { box.g.remove(); this.boxes.delete(key); }
    }
    this.chrome.replaceChildren(out);
    this.caption.textContent = this.captionText();
    this.drawHistory();
  }

  // states words what the producer learnt of a deposit, for its box's
  // label; where it went after is its history (follow it).
  states(d) {
    const t = this.t, s = [];
    if (d.acked) s.push(t["pic.acked"]);
    if (d.failed) s.push(t["pic.failed"]);
    if (d.hit) s.push(d.hit);
    return s;
  }

  captionText() {
    const t = this.t, mo = this.model.moment;
    if (!mo) return t["pic.start"];
    return format(t[mo.key], { ...mo, id: mo.id || "", text: mo.fault ? t[`fault.${mo.fault}`] : "" });
  }

  // drawHistory lists what happened to the deposit being followed.
  drawHistory() {
    this.history.hidden = !this.focus;
    if (!this.focus) return;
    const d = this.model.deposits.get(this.focus);
    const items = [document.createElement("li")];
    items[0].textContent = `${this.focus} — ${this.t["pic.follow"]}`;
    items[0].className = "head";
    for (const e of d ? d.history : []) {
      const li = document.createElement("li");
      const where = [e.instance, e.offset >= 0 ? `${this.t["pic.offset"]} ${e.offset}` : "", e.fault || "", e.aborted ? this.t["pic.aborted"] : ""].filter(Boolean).join(" · ");
      li.textContent = `${(e.t_us / 1000).toFixed(1)} ms  ${e.kind}${where ? "  (" + where + ")" : ""}`;
      items.push(li);
    }
    this.history.replaceChildren(...items);
  }
}
