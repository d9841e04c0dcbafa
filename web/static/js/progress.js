// progress.js keeps a learner's progress in this browser only: lessons
// read, runs done, predictions right (and the last predictions themselves:
// each question's guess against the run's outcome), and where they left off. It can be
// exported to a file and imported again. Levels (/levels) keep, per level,
// whether it was passed, its runs, the fewest changes that passed it and
// those settings.

const KEY = "lab.progress";

export function load() {
  try {
    const p = JSON.parse(localStorage.getItem(KEY) || "{}");
    return { lessons: p.lessons || {}, levels: p.levels || {}, last: typeof p.last === "string" ? p.last : "" };
  } catch {
    return { lessons: {}, levels: {}, last: "" };
  }
}

function save(p) {
  localStorage.setItem(KEY, JSON.stringify(p));
}

function lesson(p, id) {
  return (p.lessons[id] ||= { read: false, runs: 0, predicted: 0, right: 0 });
}

export function visit(id, path) {
  const p = load();
  lesson(p, id);
  p.last = path;
  save(p);
}

export function markRead(id) {
  const p = load();
  lesson(p, id).read = true;
  save(p);
}

// KEPT is how many predictions a lesson keeps, the latest.
const KEPT = 20;

// recordRun counts a run of lesson id, and the prediction made for it, if
// any: { right, items: [{ q, guess, actual, right }], preset, fault,
// messages }, as judgePrediction (trace.js) and lesson.js make it.
export function recordRun(id, prediction) {
  const p = load();
  const l = lesson(p, id);
  l.runs++;
  if (prediction) {
    l.predicted++;
    if (prediction.right) l.right++;
    const entry = cleanPrediction({ at: new Date().toISOString(), ...prediction });
    if (entry) l.predictions = [...(l.predictions || []), entry].slice(-KEPT);
  }
  save(p);
}

// cleanPrediction keeps a prediction record's known fields, of the right
// types, or returns null.
function cleanPrediction(e) {
  if (!e || typeof e !== "object" || !Array.isArray(e.items)) return null;
  const word = (v) => (typeof v === "string" && /^[a-z-]{0,32}$/.test(v) ? v : "");
  const items = e.items.slice(0, 8).map((i) => ({
    q: word(i?.q), guess: word(i?.guess), actual: word(i?.actual), right: typeof i?.right === "boolean" ? i.right : null,
  })).filter((i) => i.q);
  return {
    at: typeof e.at === "string" ? e.at.slice(0, 40) : "",
    preset: word(e.preset), fault: word(e.fault), messages: +e.messages || 0,
    right: !!e.right, items,
  };
}

// recordLevel counts a run of level id: passed or not, with settings that
// differ from the level's start in changes knobs. A pass with fewer
// changes than the best so far becomes the best.
export function recordLevel(id, passed, changes, settings) {
  const p = load();
  const l = (p.levels[id] ||= { passed: false, runs: 0, fewest: null, best: null });
  l.runs++;
  if (passed) {
    l.passed = true;
    if (l.fewest === null || changes < l.fewest) {
      l.fewest = changes;
      l.best = settings;
    }
  }
  save(p);
  return l;
}

// level is the record of level id, or null.
export const level = (id) => load().levels[id] || null;

// cleanSettings keeps a settings record's knobs, of the right types.
function cleanSettings(s) {
  if (!s || typeof s !== "object") return null;
  const out = {};
  for (const [k, v] of Object.entries(s)) {
    if (!/^[a-z_]{1,32}$/.test(k)) continue;
    if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && /^[a-z_0-9]{0,32}$/.test(v))) out[k] = v;
  }
  return out;
}

export function totals() {
  const p = load();
  const ls = Object.values(p.lessons);
  return {
    read: ls.filter((l) => l.read).length,
    runs: ls.reduce((n, l) => n + l.runs, 0),
    right: ls.reduce((n, l) => n + l.right, 0),
    predicted: ls.reduce((n, l) => n + l.predicted, 0),
    last: p.last,
  };
}

// download saves text as a file called name, of MIME type type.
export function download(name, type, text) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

export function exportFile() {
  download("kafka-delivery-lab-progress.json", "application/json", JSON.stringify({ format: "kafka-delivery-lab/progress@1", ...load() }, null, 2));
}

// importFile replaces the progress with a file's, after checking its shape.
export async function importFile(file) {
  const p = JSON.parse(await file.text());
  if (p.format !== "kafka-delivery-lab/progress@1" || typeof p.lessons !== "object") {
    throw new Error("not a progress file of Kafka Delivery Lab");
  }
  const clean = { lessons: {}, levels: {}, last: typeof p.last === "string" && p.last.startsWith("/") ? p.last : "" };
  for (const [id, l] of Object.entries(p.levels && typeof p.levels === "object" ? p.levels : {})) {
    if (!/^[a-z-]{1,32}$/.test(id) || !l || typeof l !== "object") continue;
    const fewest = Number.isInteger(l.fewest) && l.fewest >= 0 ? l.fewest : null;
    clean.levels[id] = { passed: !!l.passed, runs: +l.runs || 0, fewest, best: fewest === null ? null : cleanSettings(l.best) };
  }
  for (const [id, l] of Object.entries(p.lessons)) {
    if (!/^[a-z-]{1,32}$/.test(id)) continue;
    const predictions = Array.isArray(l.predictions) ? l.predictions.slice(-KEPT).map(cleanPrediction).filter(Boolean) : [];
    clean.lessons[id] = { read: !!l.read, runs: +l.runs || 0, predicted: +l.predicted || 0, right: +l.right || 0, predictions };
  }
  save(clean);
}
