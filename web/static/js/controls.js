// controls.js drives a run: pause, step, resume, a fault injected now. The
// control token is kept only in this browser (localStorage), by run id.

export const tokenFor = (id) => localStorage.getItem(`lab.token.${id}`);
export const keepToken = (id, token) => localStorage.setItem(`lab.token.${id}`, token);

// postJSON posts body as JSON to path (with any extra headers) and returns
// the API's answer, or throws the API's error sentence.
export async function postJSON(path, body, headers = {}) {
  const resp = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const out = await resp.json().catch(() => ({ error: resp.statusText }));
  if (!resp.ok) {
    const err = new Error(out.error || resp.statusText);
    err.status = resp.status; // 429: the lab is full, the page says so in its own words
    throw err;
  }
  return out;
}

// control sends one action and returns the API's answer, or throws its
// error sentence.
export async function control(id, body) {
  return postJSON(`/api/runs/${encodeURIComponent(id)}/control`, body, { Authorization: `Bearer ${tokenFor(id) || ""}` });
}

// wire connects a control bar's buttons (data-action) to run id, reporting
// refusals in errorBox; keys adds the presenter's keyboard shortcuts.
export function wire(bar, id, errorBox, keys) {
  const act = async (body) => {
    errorBox.hidden = true;
    try {
      const st = await control(id, body);
      bar.dataset.paused = String(st.paused);
    } catch (err) {
      errorBox.textContent = err.message;
      errorBox.hidden = false;
    }
  };
  const fault = () => bar.querySelector("select[name=fault]").value;
  bar.querySelectorAll("button[data-action]").forEach((b) =>
    b.addEventListener("click", () => act(b.dataset.action === "fault" ? { action: "fault", fault: fault() } : { action: b.dataset.action })));
  if (!keys) return;
  document.addEventListener("keydown", (ev) => {
    // Ctrl/Alt/Meta keys are the browser's (find, history), not ours.
    if (ev.target.closest("input, select, textarea") || ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (ev.key === " ") { ev.preventDefault(); act({ action: bar.dataset.paused === "true" ? "resume" : "pause" }); }
    else if (ev.key === "ArrowRight") act({ action: "step" });
    else if (ev.key === "f") act({ action: "fault", fault: fault() });
    else if (ev.key === "?") { const help = bar.querySelector(".keys"); help.hidden = !help.hidden; }
  });
}
