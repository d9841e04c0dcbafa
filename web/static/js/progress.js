// progress.js keeps a learner's progress in this browser only: lessons
// read, runs done, predictions right, and where they left off. It can be
// exported to a file and imported again.

const KEY = "lab.progress";

export function load() {
  try {
    const p = JSON.parse(localStorage.getItem(KEY) || "{}");
    return { lessons: p.lessons || {}, last: typeof p.last === "string" ? p.last : "" };
  } catch {
    return { lessons: {}, last: "" };
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

export function recordRun(id, prediction) {
  const p = load();
  const l = lesson(p, id);
  l.runs++;
  if (prediction) {
    l.predicted++;
    if (prediction.right) l.right++;
  }
  save(p);
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
  const clean = { lessons: {}, last: typeof p.last === "string" && p.last.startsWith("/") ? p.last : "" };
  for (const [id, l] of Object.entries(p.lessons)) {
    if (!/^[a-z-]{1,32}$/.test(id)) continue;
    clean.lessons[id] = { read: !!l.read, runs: +l.runs || 0, predicted: +l.predicted || 0, right: +l.right || 0 };
  }
  save(clean);
}
