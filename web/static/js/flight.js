// flight.js moves the deposits in flight through a run's picture: a token
// per deposit, from the producer to its offset in the input topic and on to
// the processor instance that fetched it, then to its credit in the ledger.
// Each move starts when the trace says it happened (send, fetch, credit), so
// a token shows where a deposit really is, not a guess. picture.js loads
// this module only for a reader who did not ask for less motion, and feeds
// it only while a run is watched live: a moment looked back at (the time
// slider, a paused run) is a state, and has no tokens.

const SVG = "http://www.w3.org/2000/svg";

// At most MAX tokens are drawn; the deposits beyond them are only counted
// (the producer band's "in flight"). A frame starts at most QUEUE moves: a
// burst of events between two frames cannot grow the work of the next.
const MAX = 12, QUEUE = 256;
// A move's length; a token no event moved for STALE ms (its deposit lost on
// the way, or skipped) is taken off, so it never holds a place. A deposit
// the producer gave up on is in doubt: the log may have it all the same (an
// answer lost on its way back), and then it is fetched; one that stayed
// DOUBT ms while the processor fetched others, and the model never saw
// fetched, was lost on its way in, and falls out of the picture. While
// nothing is fetched (a leader election), it waits.
const MOVE = 250, STALE = 4000, DOUBT = 2000;

// The events that move a token (step).
const MOVES = new Set(["send", "fetch", "credit", "error", "skip", "crash"]);

const at = (p) => `translate(${p.x}px, ${p.y}px)`;

export class Flight {
  constructor(layer) {
    this.layer = layer;
    this.tokens = new Map(); // deposit id -> {g, pos, instance, moved, anim, pending, doubt}
    this.queue = [];
    this.fetchedAt = 0; // when a fetch last came
  }

  event(e) {
    if (this.queue.length < QUEUE && MOVES.has(e.kind)) this.queue.push(e);
  }

  // clear takes every token off: the picture now shows a state. At the
  // run's end, inLog(id) says whether the log got a deposit: one in doubt
  // that it did not get falls.
  clear(inLog) {
    if (inLog) for (const e of this.queue) if (e.kind === "error") this.step(e, null, 0);
    this.queue.length = 0;
    const doubt = inLog ? [...this.tokens].filter(([id, tk]) => tk.doubt && !inLog(id)) : [];
    this.layer.replaceChildren(...doubt.map(([, tk]) => tk.g)); // and the falling ones
    this.tokens.clear();
    for (const [id, tk] of doubt) this.lose(id, tk);
  }

  // frame starts the moves the events since the last frame asked for, at
  // the places the picture has just drawn (where, from picture.js).
  frame(where) {
    const now = performance.now();
    for (const e of this.queue) this.step(e, where, now);
    this.queue.length = 0;
    for (const [id, tk] of this.tokens) {
      // A fetch the queue had no room for still reached the model.
      if (tk.doubt) {
        if (now - tk.moved > DOUBT && this.fetchedAt > tk.moved) where.fetched(id) ? this.drop(id, tk) : this.lose(id, tk);
      } else if (now - tk.moved > STALE) this.drop(id, tk);
    }
  }

  step(e, where, now) {
    const id = e.id || "";
    let tk = this.tokens.get(id);
    switch (e.kind) {
      case "send":
        // A deposit's fetch can reach the trace before its send does (the
        // producer reports a batch once the broker answered): then the
        // token was made, and moved, by the fetch.
        if (!tk && !where.fetched(id)) this.make(id, where, now);
        return;
      case "fetch": {
        // Appended at its offset on its partition, then fetched: the log,
        // then the instance.
        this.fetchedAt = now;
        tk ||= this.make(id, where, now);
        if (!tk) return;
        this.move(tk, [where.log(e.offset, e.partition), where.instance(e.instance)].filter(Boolean), now);
        tk.instance = e.instance || "";
        tk.doubt = false;
        tk.g.classList.remove("doubt");
        return;
      }
      case "credit": {
        const p = where.ledger(id);
        if (tk && p) this.move(tk, [p], now, () => this.drop(id, tk));
        return;
      }
      case "error":
        // A producer's error after the fetch (an answer lost on its way
        // back comes late) changes nothing: the log has the deposit.
        if (!tk || (e.actor === "producer" && tk.instance)) return;
        if (e.actor !== "producer") return this.drop(id, tk);
        tk.doubt = true;
        tk.moved = now;
        tk.g.classList.add("doubt");
        return;
      case "skip":
        if (tk) this.drop(id, tk);
        return;
      case "crash":
        // What the crashed instance held dies with it.
        for (const [did, t] of this.tokens) if (t.instance && t.instance === e.instance) this.drop(did, t);
    }
  }

  // make puts a token on deposit id's producer cell, unless MAX are drawn.
  make(id, where, now) {
    const p = where.producer(id);
    if (!p || this.tokens.size >= MAX) return null;
    const g = document.createElementNS(SVG, "g");
    g.setAttribute("class", "token");
    g.setAttribute("transform", `translate(${p.x},${p.y})`);
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("r", "5");
    g.append(dot);
    this.layer.append(g);
    const tk = { g, pos: p, instance: "", moved: now, anim: null, pending: [] };
    this.tokens.set(id, tk);
    return tk;
  }

  // move sends a token through the points, after the moves it is already
  // making: the resting place is the transform attribute, the way there a
  // CSS transform (Web Animations), which runs without script.
  move(tk, points, now, then) {
    if (!points.length || tk.pending.length >= 4) return;
    tk.pending.push({ points, then });
    tk.moved = now;
    if (!tk.anim) this.next(tk);
  }

  next(tk) {
    const seg = tk.pending.shift();
    if (!seg) { tk.anim = null; return; }
    const end = seg.points[seg.points.length - 1];
    tk.g.setAttribute("transform", `translate(${end.x},${end.y})`);
    tk.anim = tk.g.animate([tk.pos, ...seg.points].map((p) => ({ transform: at(p) })), { duration: MOVE * seg.points.length, easing: "ease-in-out" });
    tk.anim.onfinish = () => { if (seg.then) seg.then(); else this.next(tk); };
    tk.pos = end;
  }

  // lose lets a deposit lost on its way to the log fall from where it was,
  // marked as the still picture marks a lost deposit.
  lose(id, tk) {
    this.tokens.delete(id);
    tk.g.classList.replace("doubt", "lost");
    tk.g.animate([{ transform: at(tk.pos), opacity: 1 }, { transform: at({ x: tk.pos.x, y: tk.pos.y + 30 }), opacity: 0 }], { duration: 900, easing: "ease-in" })
      .onfinish = () => tk.g.remove();
  }

  drop(id, tk) {
    tk.pending.length = 0;
    tk.anim?.cancel();
    tk.g.remove();
    if (this.tokens.get(id) === tk) this.tokens.delete(id);
  }
}
