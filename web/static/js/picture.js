// picture.js draws one run as a diagram, from its trace events:
//
//   producer → input topic → processor instances → ledger → checker
//
// Model is what the events say up to a moment (so a slider can rebuild any
// moment); Picture draws a Model as SVG, with a caption that names the
// latest key moment, and lets a learner follow one deposit everywhere it
// appears. Everything from a run is set as text, never parsed as markup.

import { catalog, named } from "./catalog.js";

const SVG = "http://www.w3.org/2000/svg";
const short = (id) => (id || "").replace(/^d-0*/, "");

// Model is the state of a run after some of its events.
export class Model {
  constructor() {
    this.n = 0; // events applied
    this.deposits = new Map(); // id -> {sent, acked, failed, hit, partition, offsets: [], credits: 0}
    // The input topic by partition: each is a log of its own, with its
    // own offsets, committed offset, watermarks and owning instance.
    this.partitions = new Map(); // partition -> {log, fetchedBy, aborted, committed, hw, lso, owner}
    this.instances = new Map(); // name -> {gen, epoch, state, after, fencedBy}
    this.credits = []; // ledger credits as they became visible: {id, partition}
    this.records = []; // the ledger as read back after the run: {partition, offset, id, aborted}
    this.moment = null; // the latest key moment: {key, args}
    this.lastCredited = new Map(); // "instance/partition" -> highest input offset it credited there
    // A cluster fault's input partition: its replica set, the leader killed
    // and when, whether the leader is alone (what it takes, only it has),
    // and the deposits sent meanwhile.
    this.cluster = null; // {set, dead, killT, alone, ids}
    // The deposits (and the end marker) events changed since the picture
    // last drew: the picture redraws their cells and those that moved, and
    // passes over the rest (TestBrowserBudget).
    this.touched = new Set();
  }

  // part is partition p of the input topic.
  part(p) {
    let q = this.partitions.get(p);
    if (!q) {
      // log: offset -> id; fetchedBy: offset -> Set(instance); aborted:
      // offset -> id, a producer's aborted batch, read back after the run;
      // committed: the group's committed offset (the next to read); hw: the
      // high watermark, the offset the next record gets; lso: the last
      // stable offset, beyond which read_committed readers do not read.
      q = { log: new Map(), fetchedBy: new Map(), aborted: new Map(), committed: -1, hw: -1, lso: -1, owner: "" };
      this.partitions.set(p, q);
    }
    return q;
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
    const id = e.id || "", pn = e.partition || 0;
    const d = id.startsWith("d-") ? this.deposit(id) : null;
    if (d) d.history.push(e);
    if (id) this.touched.add(id);
    // who is the event's instance; say makes the event the latest key
    // moment, its caption's text key filled with the instance and more.
    const who = () => this.instance(e.instance || "?");
    const say = (key, more) => (this.moment = { key, instance: e.instance, ...more });
    switch (e.kind) {
      case "send":
        d.sent = true;
        if (this.cluster?.alone) this.alone(d, id);
        break;
      case "ack":
        d.acked = true;
        break;
      case "retry":
        if (!d) break;
        d.attempt = e.attempt || 2;
        say("pic.retry", { id, n: d.attempt });
        break;
      case "watermarks": {
        const q = this.part(pn);
        q.hw = e.offset;
        q.lso = e.lso ?? e.offset;
        break;
      }
      case "error":
        if (d) d.failed = true;
        break;
      case "fault":
        if (d && e.phase === "struck") {
          d.hit = e.fault;
          // Sent while only the leader could have them, as the nemesis saw.
          if (this.cluster) this.alone(d, id);
        }
        // A cluster fault's steps are told by its replicas events.
        else if (this.cluster) break;
        else if (!id && e.fault && e.phase === "struck") say("pic.struck", { fault: e.fault, detail: e.detail });
        else if (!id && e.phase === "armed") say("pic.armed", { fault: e.fault });
        break;
      case "fetch": {
        const q = this.part(pn);
        if (id === "end") q.log.set(e.offset, id); // the lab's end marker
        if (!d) break;
        d.partition = pn;
        if (!q.log.has(e.offset)) q.log.set(e.offset, id);
        if (!d.offsets.includes(e.offset)) d.offsets.push(e.offset);
        if (e.instance) {
          who();
          if (!q.fetchedBy.has(e.offset)) q.fetchedBy.set(e.offset, new Set());
          q.fetchedBy.get(e.offset).add(e.instance);
        }
        break;
      }
      case "assigned":
        this.part(pn).owner = e.instance || "";
        who();
        say("pic.assigned", { partition: pn });
        break;
      case "revoked":
        say("pic.revoked", { partition: pn });
        break;
      case "credit":
        if (!d) break;
        d.credits++;
        this.credits.push({ id, partition: d.partition || 0 });
        if (d.credits > 1) say("pic.dup", { id, n: d.credits });
        if (e.instance) {
          const off = Math.max(...d.offsets, -1), k = `${e.instance}/${d.partition || 0}`;
          this.lastCredited.set(k, Math.max(this.lastCredited.get(k) ?? -1, off));
        }
        break;
      case "commit":
      case "txn-commit":
        if (e.actor !== "processor") break;
        this.part(pn).committed = e.offset;
        if (e.instance) this.identity(e);
        // The revocation commit, sent as the generation ended.
        if (e.on_revoke) say("pic.commit.revoke", { partition: pn, offset: e.offset });
        break;
      case "txn-begin":
        if (e.actor === "processor" && e.instance) this.identity(e);
        break;
      // A crash, and processor-stall's frozen instance: what it did last.
      case "crash":
      case "stall": {
        const p = who();
        p.state = e.kind === "crash" ? "crashed" : "stalled";
        p.after = id;
        say(`pic.${e.kind}`, { id });
        break;
      }
      case "restart": {
        who();
        // The new instance resumes each partition the crashed one owned
        // from that partition's committed offset.
        const dead = [...this.instances].findLast(([, p]) => p.state === "crashed")?.[0], ps = [...this.partitions];
        const at = ps.filter(([, q]) => q.owner === dead);
        say("pic.restart", { at: (at.length ? at : ps).map(([pn, q]) => [pn, q.committed]) });
        break;
      }
      case "txn-abort":
        say(e.actor === "producer" ? "pic.abort.producer" : "pic.abort");
        break;
      // processor-stall: the frozen instance's waking, and the broker
      // refusing it.
      case "wake":
        who().state = "zombie";
        say("pic.wake");
        break;
      case "fenced": {
        // The newest instance's epoch or generation is what the broker
        // refused the zombie for.
        const newer = [...this.instances.keys()].filter((n) => n !== e.instance).pop();
        if (newer) who().fencedBy = newer;
        say("pic.zombie-fenced", { error: e.broker_error || "" });
        break;
      }
      case "replicas":
        this.replicas(e, say);
        break;
      // The checker's finding for a deposit (lost, duplicated…).
      case "audit":
        if (d) d.audit = e.detail || "";
        break;
      case "record":
        if (e.actor === "broker") this.part(pn).aborted.set(e.offset, id);
        else this.records.push({ partition: pn, offset: e.offset, id, aborted: !!e.aborted });
        break;
      case "run":
        if (e.actor === "auditor" && (e.detail || "").startsWith("verdict")) say("pic.audited");
        // An instance that a rebalance adds to the group (lessons/pipeline:
        // supervise), drawn before it fetches anything.
        if (e.actor === "processor" && e.instance && !this.instances.has(e.instance)) {
          who();
          say("pic.joined");
        }
        break;
    }
  }

  // alone: d was sent while the leader was alone; acknowledged, only it has d.
  alone(d, id) {
    if (d.alone) return;
    d.alone = true;
    this.cluster.ids.push(id);
  }

  // replicas folds a cluster fault's step in and says what matters most of
  // what changed.
  replicas(e, say) {
    const s = e.replicas;
    if (!s) return;
    const c = (this.cluster ||= { set: s, dead: -1, ids: [] });
    const was = c.set, isr = s.isr.join(", ");
    // The brokers now in state to that were in none of states from.
    const now = (to, ...from) => s.brokers.filter((b) => b.state === to && !from.includes(was.brokers.find((w) => w.id === b.id)?.state)).map((b) => b.id).join(", ");
    const back = now("running", "running", "paused"), killed = now("killed", "killed") || now("stopped", "stopped"), paused = now("paused", "paused");
    c.set = s;
    // With every follower stopped, the leader alone takes writes: acks=1
    // acknowledges them at once, acks=all waits for the in-sync set.
    c.alone = s.leader >= 0 && s.brokers.every((b) => b.id === s.leader || b.state !== "running");
    let n = 0;
    if (was.leader >= 0 && s.leader < 0) {
      c.dead = was.leader;
      c.killT = e.t_us;
      // What the dead leader acknowledged alone dies with it.
      for (const id of c.ids) {
        const d = this.deposits.get(id);
        if (d.acked) n += d.vanished = 1;
        this.touched.add(id);
      }
      say(n ? "pic.rep.killed" : "pic.rep.killed.none", { broker: was.leader, n });
    } else if (was.leader < 0 && s.leader >= 0) {
      for (const id of c.ids) n += this.deposits.get(id).vanished || 0;
      say(n ? "pic.rep.elected" : "pic.rep.elected.none", { broker: s.leader, s: ((e.t_us - c.killT) / 1e6).toFixed(1), n });
    } else if (back) say("pic.rep.back", { broker: back, isr });
    // Only with every follower stopped is the leader alone.
    else if (paused && c.alone) say("pic.rep.paused", { broker: paused, leader: s.leader });
    else if (killed || paused) say("pic.rep.down", { broker: killed || paused, isr });
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

  // ranges are what a crash left behind on partition pn of the input topic:
  // offsets the group committed that the crashed instance never credited
  // (skipped), and offsets fetched by two instances (read again).
  ranges(pn) {
    const out = [];
    const { log, fetchedBy, committed } = this.part(pn);
    // A range is its lowest and highest offset, found in one pass (it runs
    // in every frame: no arrays, no sorting).
    const range = (kind, offsets, keep) => {
      let from = Infinity, to = -1;
      for (const o of offsets) if (keep(o)) { from = Math.min(from, o); to = Math.max(to, o); }
      if (to >= 0) out.push({ kind, from, to });
    };
    const again = (o) => fetchedBy.get(o)?.size > 1;
    range("again", fetchedBy.keys(), again);
    for (const [name, p] of this.instances) {
      if (p.state !== "crashed") continue;
      const last = this.lastCredited.get(`${name}/${pn}`) ?? -1;
      range("skipped", log.keys(), (o) => o > last && o < committed && !again(o) && this.deposits.get(log.get(o))?.credits === 0);
    }
    return out;
  }
}

// gone: acknowledged, and then lost: found lost by the checker, or (live)
// acknowledged by a leader alone that died, never in the new leader's log.
const gone = (d) => d.acked && (d.audit === "lost" || d.vanished && !d.offsets.length);

// format fills a text's {name} placeholders with values, as text.
const format = (s, args) => (s || "").replace(/\{(\w+)\}/g, (_, k) => String(args[k] ?? ""));

// html makes an HTML element with the properties, and the test id.
function html(tag, props, testid) {
  const n = Object.assign(document.createElement(tag), props);
  if (testid) n.dataset.testid = testid;
  return n;
}

function svg(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

// Sizes in the SVG's own units: a cell, the gap between cells, a row of
// cells, a band's heading.
const CELL = 30, GAP = 4, ROW = 34, HEAD = 20;
// centre is where a deposit in flight is drawn on a cell at p, in a band
// whose cells start at top.
// A token sits on a cell's lower edge, under its label.
const centre = (p, top) => ({ x: p.x + CELL / 2, y: top + p.y + ROW - 8 });
// A frame of a run drawn live builds at most BUILDS boxes (a new box costs
// more than all the changes to the kept ones); the rest wait for the next
// frames. Each is a clone of BOX (one call where building it is a dozen):
// its label, a badge in its corner for a second (third…) credit or write
// (×2, ↻2…), a strike-through shown on aborted (and vanished) records, and
// its title.
const BUILDS = 8;
const BOX = svg("g");
BOX.append(svg("rect", { width: CELL, height: ROW - 8, rx: 3 }), svg("text", { x: CELL / 2, y: 17, "text-anchor": "middle" }),
  svg("text", { x: CELL - 1, y: 7, "text-anchor": "end", class: "badge" }), svg("line", { x1: 2, y1: 13, x2: CELL - 2, y2: 13, class: "strike" }), svg("title"));

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
    this.root = html("figure", { className: "picture" }, "picture");
    // A group, not an image: its cells are buttons, to follow a deposit.
    this.svg = svg("svg", { role: "group" });
    // The boxes, kept between frames, over everything else, redrawn each.
    this.chrome = svg("g");
    // One layer per band (producer, log, credits), moved as a whole when
    // a band above it grows, so its boxes keep their own coordinates.
    this.layers = { p: svg("g"), v: svg("g"), l: svg("g"), c: svg("g") };
    this.boxes = new Map(); // key -> {g, and what it shows: pos, klass, label…}
    this.walked = {}; // band -> what its cells showed when last walked
    this.ledger = null; // the ledger as last walked: {cells (each with its place p), base (each partition's rows' top, of several), h}
    // The chrome's parts (headings, pointers, instances…), kept like the
    // boxes: a frame rebuilds only those whose state changed.
    this.parts = new Map(); // key -> {node, state}
    // Deposits in flight, over everything (flight.js), in the SVG's own
    // coordinates; its module loads only for a reader who did not ask for
    // less motion.
    this.flying = svg("g", { class: "flight", "aria-hidden": "true" });
    this.flight = null;
    this.svg.append(this.chrome, ...Object.values(this.layers), this.flying);
    if (!matchMedia("(prefers-reduced-motion: reduce)").matches) {
      import("./flight.js").then(({ Flight }) => { this.flight = new Flight(this.flying); });
    }
    this.caption = html("figcaption", { className: "caption" }, "caption");
    this.caption.setAttribute("aria-live", "polite");
    const tools = html("div", { className: "picture-tools" });
    this.toggle = html("button", { type: "button" }, "isolation");
    this.toggle.setAttribute("aria-pressed", "false");
    this.toggle.addEventListener("click", () => {
      this.view = this.view === "committed" ? "uncommitted" : "committed";
      this.toggle.setAttribute("aria-pressed", this.view === "uncommitted");
      this.draw();
    });
    this.slider = html("input", { type: "range", min: "0", hidden: true }, "time");
    this.slider.setAttribute("aria-label", t["pic.time"]);
    this.slider.addEventListener("input", () => this.seek(Number(this.slider.value)));
    tools.append(this.toggle, this.slider);
    // Its first item is its heading, unnumbered.
    this.history = html("ol", { className: "history", hidden: true, start: 0 }, "history");
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
      // 0 while the picture is not laid out (hidden; or, for a moment, while
      // Chromium takes a screenshot): nothing to redraw for.
      if (!entry.contentRect.width) return;
      const w = Math.max(320, Math.floor(entry.contentRect.width));
      if (w !== this.width) { this.width = w; this.schedule(); }
    }).observe(this.root);
    this.draw();
  }

  add(e) {
    // Live unless the slider looks back: then the run goes on unseen.
    const live = this.atEnd();
    this.events.push(e);
    if (!this.slider.hidden) this.slider.max = this.events.length;
    if (live) {
      if (!this.slider.hidden) this.slider.value = this.slider.max;
      this.model.apply(e);
      // Only a run being watched live moves: a moment looked back at is a state.
      if (this.flight && this.slider.hidden && !this.result) this.flight.event(e);
      this.schedule();
    }
  }

  // done shows the result, and the slider to look back through the run.
  done(run) {
    this.result = run.result || null;
    this.slider.value = this.slider.max = this.events.length;
    this.slider.hidden = this.events.length === 0;
    this.flight?.clear((id) => (this.model.deposits.get(id)?.offsets.length || 0) > 0);
    // Whatever the frames had no time for yet, drawn now: the run's end is
    // a moment a reader looks at, once.
    this.draw();
  }

  // pause offers the slider while the run is paused, to look back; on
  // resume the picture follows the run again.
  pause(paused) {
    if (this.result || paused === !this.slider.hidden) return;
    this.slider.hidden = !paused;
    this.flight?.clear();
    if (paused) {
      this.slider.value = this.slider.max = this.events.length;
    } else {
      this.seek(this.events.length);
    }
  }

  // atEnd: the picture shows the run's latest moment, not one looked back at.
  atEnd() {
    return this.slider.hidden || +this.slider.value >= this.events.length;
  }

  // seek rebuilds the picture as it was after the first n events.
  seek(n) {
    this.flight?.clear();
    this.model = new Model();
    this.walked = {};
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
    requestAnimationFrame(() => {
      this.pending = false;
      const began = performance.now();
      this.draw(BUILDS);
      // User Timing: what an animation frame of the picture costs, and how
      // many boxes it built (the budget test reads both).
      performance.measure("picture.draw", { start: began, detail: BUILDS - Math.max(this.builds, 0) });
    });
  }

  // draw redraws the picture, building at most builds boxes: a frame of a
  // run drawn live builds a few and leaves the rest, drawn as they were, to
  // the next frames (the budget: TestBrowserBudget); a click, the slider and
  // the run's end draw everything at once.
  draw(builds = Infinity) {
    this.builds = builds;
    this.behind = false;
    this.render();
    if (this.behind) this.schedule();
  }

  render() {
    const t = this.t, m = this.model;
    const width = this.width;
    // The result belongs to the run's end: a moment the slider looks back
    // at has no verdict yet.
    const res = this.atEnd() ? this.result : null;
    const cols = Math.max(4, Math.floor(width / (CELL + GAP)));
    // put draws a part of the chrome: kept from the last frame when its
    // state is the same, built anew otherwise. A frame of a 200-deposit run
    // so writes to the DOM only what changed (the budget: TestBrowserBudget).
    const nodes = [];
    const put = (key, state, build) => {
      let part = this.parts.get(key);
      if (!part || part.state !== state) {
        part = { node: build(), state };
        this.parts.set(key, part);
      }
      nodes.push(part.node);
    };
    const moved = (layer, top) => {
      const tr = `translate(0,${top})`;
      if (this.layers[layer].getAttribute("transform") !== tr) this.layers[layer].setAttribute("transform", tr);
    };
    let y = 0, top0 = 0; // top0: where the current band's cells start
    const geo = { top: {}, instances: new Map(), ids: [] }; // where things are, for the deposits in flight
    // band writes a band's heading, its title and what configures it, and
    // starts its cells under it.
    const band = (title, sub, layer) => {
      put("band:" + title, `${y}|${sub}`, () => {
        const h = svg("text", { x: 0, y: y + 14, class: "band" }, title);
        if (sub) h.append(svg("tspan", { class: "sub", dx: 10 }, sub));
        return h;
      });
      y += HEAD;
      top0 = y;
      if (layer) { moved(layer, top0); geo.top[layer] = top0; }
    };
    const rows = (n) => Math.max(1, Math.ceil(n / cols));
    // Positions within a band's layer.
    const at = (i) => ({ x: (i % cols) * (CELL + GAP), y: Math.floor(i / cols) * ROW });
    // cell draws one box. A box is kept from frame to frame by key, and only what changed in
    // it is written: a frame of a 200-deposit run writes a few attributes,
    // and builds (clones) at most this.builds new boxes.
    const used = new Set();
    const cell = (key, p, label, cls, id = "", title = "", badge = "") => {
      used.add(key);
      const focus = id !== "" && id === this.focus;
      let b = this.boxes.get(key);
      if (!b) {
        if (this.builds-- <= 0) {
          this.behind = true;
          return;
        }
        const g = BOX.cloneNode(true);
        b = { g, text: g.children[1], mark: g.children[2], tip: g.lastChild, x: NaN, y: NaN, cls: "", focus: false, label: "", badge: "", title: "", id: "" };
        this.layers[key[0]].append(g);
        this.boxes.set(key, b);
      }
      // Compared before anything is built: a box nothing changed in costs no
      // string and no write.
      const g = b.g;
      if (b.x !== p.x || b.y !== p.y) {
        b.x = p.x;
        b.y = p.y;
        g.setAttribute("transform", `translate(${p.x},${p.y})`);
      }
      if (b.cls !== cls || b.focus !== focus) {
        b.cls = cls;
        b.focus = focus;
        g.setAttribute("class", `box ${cls}${focus ? " focus" : ""}`);
      }
      if (b.label === label && b.badge === badge && b.title === title && b.id === id) return;
      if (b.label !== label) b.text.textContent = b.label = label;
      if (b.badge !== badge) b.mark.textContent = b.badge = badge;
      if (b.title !== title) b.tip.textContent = b.title = title;
      if (b.id !== id) {
        b.id = id;
        if (id) {
          g.dataset.id = id;
          g.setAttribute("tabindex", "0");
          g.setAttribute("role", "button");
        } else {
          delete g.dataset.id;
          g.removeAttribute("tabindex");
          g.removeAttribute("role");
        }
      }
      // The accessible name starts with what the cell shows.
      if (id) g.setAttribute("aria-label", `${label}${badge} — ${title || id}`);
      else g.removeAttribute("aria-label");
    };

    // walk draws a band's cells. Walked again with the same width, focus,
    // view and more (what else places them), it redraws only the cells same
    // says changed; a box not built yet (this.builds) is built next time.
    let full = true;
    const walk = (band, draw, more) => {
      const sig = `${cols}|${this.focus}|${this.view}|${more}`;
      full = this.walked[band] !== sig;
      this.walked[band] = sig;
      draw();
    };
    // same: the box key shows deposit id at p as it did, and is kept.
    const same = (key, p, id) => {
      const b = !full && !m.touched.has(id) && this.boxes.get(key);
      if (!b || b.x !== p.x || b.y !== p.y) return false;
      used.add(key);
      return true;
    };

    // Producer: one cell per deposit.
    const r = this.recipe;
    let inFlight = 0;
    for (const d of m.deposits.values()) if (d.sent && !d.acked && !d.failed) inFlight++;
    band(t["trace.producer"], [r.client, r.acks && `acks=${r.acks}`, r.idempotent && t["pic.idempotent"], r.transactional && t["pic.transactional"],
      inFlight && `${t["pic.inflight"]} ${inFlight}`].filter(Boolean).join(" · "), "p");
    const ids = [...m.deposits.keys()].filter((id) => m.deposits.get(id).sent).sort();
    geo.ids = ids;
    walk("p", () => ids.forEach((id, i) => {
      if (same("p" + id, at(i), id)) return;
      const d = m.deposits.get(id);
      const mark = d.failed ? (d.credits || d.offsets.length ? "?" : "✗") : d.acked ? "✓" : "";
      const cls = `${d.acked ? "acked" : "sent"} ${d.failed ? "failed" : ""} ${d.hit ? "hit" : ""}${gone(d) ? " vanished" : ""}`;
      cell("p" + id, at(i), short(id) + mark, cls, id, `${id}: ${this.states(d).join(", ")}`, d.attempt > 1 ? `↻${d.attempt}` : "");
    }));
    y += rows(ids.length) * ROW + GAP * 2;

    const heading = (key, hy, text) => put(key, `${hy}|${text}`, () => svg("text", { x: 0, y: hy, class: "partition-head" }, text));
    // Brokers, for a cluster fault: the input partition's replicas, one box
    // each, and the deposits sent while the leader was alone.
    const cl = m.cluster;
    if (cl) {
      const s = cl.set, n = s.brokers.length;
      band(t["pic.brokers"], format(t["pic.brokers.sub"], { isr: s.isr.join(", ") }));
      const w = Math.max(150, Math.min(250, Math.floor((width - 12 * (n - 1)) / n)));
      let bx = 0;
      for (const b of s.brokers) {
        // The leader is a word, a star and a thick frame; a paused broker
        // dashed, a killed one crossed out: not colour alone.
        const lead = b.id === s.leader;
        const role = t[lead ? "pic.rep.leader" : b.state === "killed" && b.id === cl.dead ? "pic.rep.was" : "pic.rep.follower"];
        const sync = b.state === "killed" ? "" : t[s.isr.includes(b.id) ? "pic.rep.insync" : "pic.rep.outsync"];
        const lines = [`${format(t["pic.rep.broker"], { id: b.id })} · ${role}`, t[`pic.rep.state.${b.state}`], sync];
        put("broker:" + b.id, `${bx},${y},${w}|${lines}`, () => {
          const g = svg("g", { class: `replica ${b.state == "stopped" ? "killed" : b.state}${lead ? " leader" : ""}`, transform: `translate(${bx},${y})` });
          g.append(svg("rect", { width: w, height: 58, rx: 5 }));
          if (b.state === "killed") g.append(svg("path", { d: `M4 4L${w - 4} 54M${w - 4} 4L4 54`, class: "dead-x" }));
          lines.forEach((l, i) => l && g.append(svg("text", { x: 8, y: 16 + i * 17, class: i ? "" : "name" }, l)));
          return g;
        });
        bx += w + 12;
        if (bx + w > width) { bx = 0; y += 64; }
      }
      y += bx ? 64 : 0;
      if (cl.ids.length) {
        const alone = cl.dead >= 0 ? cl.dead : s.leader;
        heading("alone", y + 12, format(t["pic.rep.alone"], { broker: alone }));
        y += 16;
        moved("v", y);
        walk("v", () => cl.ids.forEach((id, i) => {
          if (same("v" + id, at(i), id)) return;
          const d = m.deposits.get(id), lost = gone(d), kept = d.offsets.length > 0;
          const cls = lost ? `vanished${d.audit === "lost" ? " lost" : ""}` : kept ? "record" : d.acked ? "acked only" : "sent";
          const what = format(t[lost ? "pic.rep.gone" : kept ? "pic.acked" : d.acked ? "pic.rep.only" : "pic.rep.waiting"], { broker: alone });
          cell("v" + id, at(i), short(id) + (lost ? "✗" : d.acked || kept ? "✓" : ""), cls, id, `${id}: ${what}`);
        }));
        y += rows(cl.ids.length) * ROW + GAP;
      }
      y += GAP;
    }

    // Input topic: one cell per offset; a gap is a transaction marker. A
    // run of several partitions gets one row of offsets per partition, each
    // headed by who processes it.
    // Only a ledger written in transactions, or an input holding a
    // producer's aborted batch, has records read_committed readers do not see.
    const txnLedger = this.recipe.commit === "transaction";
    let abortedN = 0;
    for (const q of m.partitions.values()) abortedN += q.aborted.size;
    const uncommitted = (txnLedger || abortedN > 0) && this.view === "uncommitted";
    const nParts = Math.max(this.run.partitions || 1, ...[...m.partitions.keys()].map((pn) => pn + 1));
    const multi = nParts > 1;
    const pname = (pn) => format(t["pic.partition.n"], { n: pn });
    const watermarks = (q) => (q.hw >= 0 ? [`${t["pic.hw"]} ${q.hw}`, `${t["pic.lso"]} ${q.lso}`] : []);
    const marks = multi ? [t["pic.partitions.note"]] : [t["pic.partition"], ...watermarks(m.part(0))];
    if (abortedN) marks.push(uncommitted ? "read_uncommitted" : "read_committed");
    band(t["pic.input"], marks.join(" · "), "l");
    // Each row of the log leaves room under it for the group's committed
    // offset (the next it reads), a pointer, and for what a crash left
    // behind, brackets; of several partitions, each one's rows leave room
    // above them for its heading.
    const ROWLOG = ROW + 14, PHEAD = multi ? 16 : 0;
    const lay = []; // by partition: {q, base: where its rows start in the layer, top: its last offset}
    let ly = 0;
    for (let pn = 0; pn < nParts; pn++) {
      const q = m.part(pn);
      if (multi) heading(`head:l${pn}`, top0 + ly + 12, [pname(pn), q.owner && format(t["pic.owner"], { instance: q.owner }), ...watermarks(q)].filter(Boolean).join(" · "));
      const offsets = [...q.log.keys(), ...q.aborted.keys()];
      const top = offsets.length ? Math.max(...offsets, q.committed - 1) : -1;
      lay.push({ q, base: ly + PHEAD, top });
      ly += PHEAD + rows(Math.max(top + 1, q.committed + 1)) * ROWLOG;
    }
    const logAt = (pn, i) => ({ x: (i % cols) * (CELL + GAP), y: lay[pn].base + Math.floor(i / cols) * ROWLOG });
    // A partition's rows move when one above grows: its cells are walked again.
    walk("l", () => lay.forEach(({ q, top }, pn) => {
      // One partition's keys are "l" + offset, several's "l<partition>:<offset>".
      const key = multi ? `l${pn}:` : "l", where = multi ? `${pname(pn)} · ${t["pic.offset"]}` : t["pic.offset"];
      for (let o = 0; o <= top; o++) {
        const id = q.log.get(o), k = key + o, p = logAt(pn, o);
        if (same(k, p, id || q.aborted.get(o) || "")) continue;
        if (id === "end") {
          cell(k, p, "end", "marker end", "", t["pic.end"]);
        } else if (id) {
          const dupInLog = m.deposits.get(id).offsets.length > 1;
          cell(k, p, short(id), `record${dupInLog ? " dup" : ""}`, id, `${where} ${o}: ${id}`, dupInLog ? "×" + m.deposits.get(id).offsets.length : "");
        } else if (q.aborted.has(o)) {
          // A read_committed reader skips it: an empty slot, its offset taken.
          const aid = q.aborted.get(o);
          cell(k, p, uncommitted ? short(aid) : "", uncommitted ? "record aborted" : "marker skipped-record", uncommitted ? aid : "",
            `${where} ${o}: ${aid} — ${t["pic.aborted.input"]}`);
        } else {
          cell(k, p, "c", "marker", "", t["pic.marker"]);
        }
      }
    }), lay.map((l) => l.base).join());
    y += ly;
    const onLog = (pn, i) => { const p = logAt(pn, i); return { x: p.x, y: p.y + top0 }; };
    lay.forEach(({ q, top }, pn) => {
      // One partition's parts are "committed", "open"…, several's "committed<partition>"…
      const k = multi ? pn : "";
      if (q.committed >= 0) {
        const p = onLog(pn, q.committed);
        put("committed" + k, `${p.x},${p.y}|${q.committed}|${width}`, () => {
          const g = svg("g");
          g.append(svg("path", { d: `M${p.x + CELL / 2} ${p.y + ROW - 6} l-6 10 h12 z`, class: "pointer" }));
          const left = p.x > width / 2; // near the right edge, the label goes left
          g.append(svg("text", { x: p.x + CELL / 2 + (left ? -9 : 9), y: p.y + ROW + 4, class: "pointer-label", "text-anchor": left ? "end" : "start" }, `${t["pic.committed"]} ${q.committed}`));
          return g;
        });
      }
      // Between the LSO and the high watermark a transaction is open:
      // read_committed readers wait there.
      if (q.lso >= 0 && q.lso < q.hw) {
        const a = onLog(pn, q.lso), b = onLog(pn, Math.min(q.hw - 1, top));
        if (a.y === b.y) {
          put("open" + k, `${a.x},${a.y},${b.x}`, () => {
            const open = svg("path", { d: `M${a.x} ${a.y - 3} H${b.x + CELL}`, class: "open-txn" });
            open.append(svg("title", {}, t["pic.open"]));
            return open;
          });
        }
      }
      for (const [i, rg] of m.ranges(pn).entries()) {
        const a = onLog(pn, rg.from), b = onLog(pn, rg.to);
        if (a.y !== b.y) continue; // a range over two rows is named by its cells' marks only
        put(`range${k}:${i}`, `${rg.kind}|${a.x},${a.y},${b.x}`, () => {
          const g = svg("g");
          g.append(svg("path", { d: `M${a.x} ${a.y + ROW - 4} v4 H${b.x + CELL} v-4`, class: `range ${rg.kind}` }));
          g.append(svg("text", { x: a.x, y: a.y + ROW + 9, class: `range-label ${rg.kind}` }, t[`pic.${rg.kind}`]));
          return g;
        });
      }
    });
    y += GAP;

    // Processor instances.
    band(t["trace.processor"], [r.commit && `${t["pic.commit"]}: ${r.commit}`, r.isolation].filter(Boolean).join(" · "));
    let x = 0;
    for (const [name, p] of m.instances) {
      const id = [name, p.gen ? `gen ${p.gen}` : "", p.epoch !== null ? `epoch ${p.epoch}` : ""].filter(Boolean).join(" · ");
      const doing = p.state === "crashed" ? `✗ ${format(t["pic.crashed"], { id: short(p.after) })}` : p.state === "stalled" || p.state === "zombie" ? `‖ ${format(t[`pic.${p.state}`], { id: short(p.after) })}` : t[res ? "pic.finished" : "pic.running"];
      // Who fenced it; else, of several partitions, those it processes now,
      // as the picture last saw them.
      const more = p.fencedBy ? format(t["pic.fencedby"], { by: p.fencedBy }) : multi ? lay.flatMap(({ q }, pn) => (q.owner === name ? [pname(pn)] : [])).join(", ") : "";
      // As wide as its longest line (a zombie's, a Korean one), at the
      // presenter's 14 px: a wide character takes about 14, another 8.5.
      const w = Math.min(width, Math.max(250, 16 + Math.max(...[id, doing, more].map((l) => [...l].reduce((a, c) => a + (c > "ᄀ" ? 14 : 8.5), 0)))));
      if (x && x + w > width) { x = 0; y += 68; }
      geo.instances.set(name, { x: x + w / 2, y: y + 30 });
      put("instance:" + name, `${x},${y},${w}|${p.state}|${id}|${doing}|${more}`, () => {
        const g = svg("g", { class: `instance ${p.state}${p.fencedBy ? " fenced" : ""}`, transform: `translate(${x},${y})` });
        g.append(svg("rect", { width: w, height: 60, rx: 5 }), svg("text", { x: 8, y: 17, class: "name" }, id), svg("text", { x: 8, y: 35 }, doing));
        if (more) g.append(svg("text", { x: 8, y: 52 }, more));
        return g;
      });
      x += w + 12;
    }
    y += 72;

    // Ledger: credits as they became visible; after the run, as read back.
    band(t["trace.ledger"], txnLedger ? (uncommitted ? "read_uncommitted" : "read_committed") : "", "c");
    walk("c", () => {
      const seen = new Map();
      const cells = [];
      for (const rec of m.records.length ? m.records : m.credits) {
        if (rec.aborted && !uncommitted) continue;
        const n = rec.aborted ? 0 : (seen.get(rec.id) || 0) + 1;
        if (!rec.aborted) seen.set(rec.id, n);
        cells.push({ key: rec.aborted ? `${rec.id}@${rec.offset}` : `${rec.id}#${n}`, pn: rec.partition, id: rec.id, rec, n });
      }
      // Of several partitions, one row (or more) per partition: an
      // account's credits are on its partition, in the order they were
      // written. Each cell's place is kept, for the deposits in flight.
      const count = Array(nParts).fill(0);
      for (const c of cells) c.i = count[c.pn]++;
      let h = 0;
      const base = count.map((n) => { const b = h + PHEAD; h = b + rows(n) * ROW; return b; });
      this.ledger = { cells, base: multi ? base : [], h };
      // Keyed by credit, not by place: when the ledger as read back replaces
      // the credits seen live, a credit that moved is only moved.
      for (const c of cells) {
        const p = at(c.i);
        c.p = { x: p.x, y: p.y + base[c.pn] };
        // What a credit's box shows is built only when it changed.
        const { rec, n, id } = c;
        if (!same("c" + c.key, c.p, id)) cell("c" + c.key, c.p, short(id), rec.aborted ? "credit aborted" : `credit${n > 1 ? " dup" : ""}`, id, rec.aborted ? `${id} — ${t["pic.aborted"]}` : id, n > 1 ? `×${n}` : "");
      }
    }, nParts);
    const led = this.ledger;
    led.base.forEach((b, pn) => heading(`head:c${pn}`, top0 + b - 4, pname(pn)));
    geo.cells = led.cells;
    const aborted = m.records.filter((rec) => rec.aborted).length;
    this.toggle.hidden = !txnLedger && !abortedN;
    const toggleText = uncommitted ? t["pic.show.committed"] :
      format(t[abortedN ? "pic.show.uncommitted.input" : "pic.show.uncommitted"], { n: aborted, in: abortedN });
    if (this.toggle.textContent !== toggleText) this.toggle.textContent = toggleText;
    y += led.h + GAP * 2;

    // Checker.
    band(t["pic.checker"]);
    const balance = res ? res.balance : m.credits.length;
    const parts = [`${t["trace.balance"]} ${balance} / ${this.run.messages}`];
    if (res) {
      parts.push(`${t["result.lost"]} ${res.lost}`, `${t["result.duplicated"]} ${res.duplicated}`, `${t["result.recovered"]} ${res.recovered}`);
      if (txnLedger) parts.push(`${t["pic.aborted.count"]} ${res.aborted_credits}`);
      if (m.cluster) parts.push(`${t["pic.lost.acked"]} ${res.lost_acked}`);
      parts.push(`${res.verdict === "held" ? "✓" : "✗"} ${t["verdict." + res.verdict]}`);
    }
    const checked = parts.join("   ");
    put("checker", `${y}|${checked}|${res ? res.verdict : ""}`, () => svg("text", { x: 0, y: y + 14, class: `checker${res ? " " + res.verdict : ""}` }, checked));
    y += 22;

    // Attributes and text are written only when they change: each write
    // invalidates the layout, and the caption is a live region.
    const size = `0 0 ${width} ${y}`;
    if (this.svg.getAttribute("viewBox") !== size) {
      this.svg.setAttribute("viewBox", size);
      this.svg.setAttribute("width", width);
      this.svg.setAttribute("height", y);
    }
    const caption = this.captionText();
    if (this.caption.textContent !== caption) {
      this.caption.textContent = caption;
      this.svg.setAttribute("aria-label", `${t["pic.label"]}: ${caption}`);
    }
    for (const [key, box] of this.boxes) {
      if (!used.has(key)) { box.g.remove(); this.boxes.delete(key); }
    }
    const keys = new Set(nodes);
    for (const [key, part] of this.parts) if (!keys.has(part.node)) this.parts.delete(key);
    // Only the parts rebuilt are put in, and the old ones taken out:
    // replacing them all made the browser restyle every one (a band's
    // count changes in most frames).
    let cur = this.chrome.firstChild;
    for (const n of [...nodes, null]) {
      while (cur && !keys.has(cur)) { const next = cur.nextSibling; cur.remove(); cur = next; }
      if (n === cur) cur = cur?.nextSibling;
      else if (n) this.chrome.insertBefore(n, cur);
    }
    this.flight?.frame({
      producer: (id) => { const i = geo.ids.indexOf(id); return i < 0 ? null : centre(at(i), geo.top.p); },
      fetched: (id) => (m.deposits.get(id)?.offsets.length || 0) > 0,
      log: (o, pn = 0) => centre(logAt(pn, o), geo.top.l),
      instance: (name) => geo.instances.get(name) || null,
      ledger: (id) => { const c = geo.cells.findLast((c) => c.id === id); return c ? centre(c.p, geo.top.c) : null; },
    });
    m.touched.clear();
    this.drawHistory();
  }

  // states words what the producer learnt of a deposit, for its box's
  // label; where it went after is its history (follow it).
  states(d) {
    const t = this.t;
    return [d.acked && t["pic.acked"], d.failed && t["pic.failed"], d.hit, gone(d) && t["pic.lost.acked"]].filter(Boolean);
  }

  captionText() {
    const t = this.t, mo = this.model.moment;
    if (!mo) return t[this.model.deposits.size ? "pic.flowing" : "pic.start"];
    // Of several partitions, each offset says its partition.
    const at = mo.at?.map(([n, o]) => (this.model.partitions.size > 1 ? `${o} (${format(t["pic.partition.n"], { n })})` : o)).join(", ");
    return format(t[mo.key], { ...mo, offset: at, id: mo.id || "", fault: mo.fault ? named(t, mo.fault) : "", text: mo.fault ? t[`fault.${mo.fault}`] : "" });
  }

  // drawHistory lists what happened to the deposit being followed.
  drawHistory() {
    this.history.hidden = !this.focus;
    if (!this.focus) return;
    const d = this.model.deposits.get(this.focus);
    const items = [html("li", { className: "head", textContent: `${this.focus} — ${this.t["pic.follow"]}` })];
    for (const e of d ? d.history : []) {
      const where = [e.instance, e.offset >= 0 ? `${this.t["pic.offset"]} ${e.offset}` : "", e.fault ? named(this.t, e.fault) : "", e.aborted ? this.t["pic.aborted"] : ""].filter(Boolean).join(" · ");
      items.push(html("li", { textContent: `${(e.t_us / 1000).toFixed(1)} ms  ${named(this.t, e.kind)}${where ? "  (" + where + ")" : ""}` }));
    }
    this.history.replaceChildren(...items);
  }
}
