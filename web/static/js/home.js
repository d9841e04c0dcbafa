// home.js shows the learner's progress, kept in this browser.
import { texts } from "./catalog.js";
import { totals, exportFile, importFile } from "./progress.js";

const box = document.querySelector("[data-testid=progress]");
const t = texts();
const render = () => {
  const p = totals();
  const summary = box.querySelector("[data-testid=progress-summary]");
  const cont = box.querySelector("[data-testid=continue]");
  if (!p.runs && !p.read && !p.last) {
    summary.textContent = t["progress.none"];
    cont.hidden = true;
    return;
  }
  summary.textContent = `${p.read} · ${p.runs} · ${p.right}/${p.predicted} — ${t["progress.summary"]}`;
  cont.hidden = !p.last;
  cont.href = p.last || "/";
};
box.hidden = false;
render();
box.querySelector("[data-testid=progress-export]").addEventListener("click", exportFile);
box.querySelector("[data-testid=progress-import]").addEventListener("change", async (ev) => {
  const err = box.querySelector("[data-testid=progress-error]");
  err.hidden = true;
  try {
    await importFile(ev.target.files[0]);
    render();
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
});
