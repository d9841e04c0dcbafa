// replay.js plays a downloaded run file again: the same trace drawing, with
// the events spaced as they happened (sped up to at most 20 s), no broker.
import { texts } from "./catalog.js";
import { RunView } from "./trace.js";

const page = document.querySelector("[data-testid=replay]");
const t = texts();
const errorBox = page.querySelector("[data-testid=replay-error]");
const runs = page.querySelector("[data-testid=runs]");
const MAX_MS = 20000;

page.querySelector("[data-testid=replay-file]").addEventListener("change", async (ev) => {
  errorBox.hidden = true;
  let file;
  try {
    file = JSON.parse(await ev.target.files[0].text());
    if (file.format !== "kafka-delivery-lab/run@1" || !file.run || !Array.isArray(file.events)) throw new Error(file.format || "?");
  } catch (e) {
    errorBox.textContent = `${t["replay.bad"]} ${e.message}`;
    errorBox.hidden = false;
    return;
  }
  const run = file.run;
  runs.replaceChildren();
  const view = new RunView(runs, t, { id: run.id, guarantee: run.guarantee, preset: run.preset, fault: run.fault, messages: run.messages, partitions: run.partitions });
  view.root.dataset.replay = "1";
  view.handle({ type: "snapshot", run: { ...run, state: "running", result: null }, events: [] });
  const events = file.events;
  const span = events.length ? events[events.length - 1].t_us / 1000 : 0;
  const speed = Math.max(1, span / MAX_MS);
  const start = performance.now();
  let i = 0;
  const tick = () => {
    const now = (performance.now() - start) * speed * 1000; // in µs of the run
    const batch = [];
    while (i < events.length && events[i].t_us <= now) batch.push(events[i++]);
    if (batch.length) view.handle({ type: "events", events: batch });
    if (i < events.length) {
      requestAnimationFrame(tick);
      return;
    }
    view.handle({ type: "progress", ...run.progress });
    view.handle({ type: "result", run });
  };
  requestAnimationFrame(tick);
});
