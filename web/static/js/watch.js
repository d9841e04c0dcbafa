// watch.js shows one run live: a permalink, a student's view of a shared
// run, or the presenter's view with controls (only where the token is).
import { texts } from "./catalog.js";
import { RunView, watch } from "./trace.js";
import { tokenFor, wire } from "./controls.js";

const page = document.querySelector("[data-testid=watch]");
const t = texts();
const id = page.dataset.run;
const bar = page.querySelector("[data-testid=controls]");
const errorBox = page.querySelector("[data-testid=control-error]");

if (tokenFor(id)) {
  bar.hidden = false;
  wire(bar, id, errorBox, true);
} else {
  page.querySelector("[data-testid=readonly]").hidden = false;
}

const resp = await fetch(`/api/runs/${encodeURIComponent(id)}`);
const st = await resp.json();
bar.dataset.paused = String(st.paused); // space's first press resumes a run opened paused
const view = new RunView(page.querySelector("[data-testid=runs]"), t, { id, guarantee: st.guarantee, preset: st.preset, fault: st.fault, messages: st.messages, partitions: st.partitions });
watch(view, `/ws/runs/${encodeURIComponent(id)}`, null, () => { errorBox.textContent = t["error.socket"]; errorBox.hidden = false; });
