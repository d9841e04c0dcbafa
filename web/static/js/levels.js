// levels.js marks, on /levels, the levels this browser has passed and the
// fewest changes that passed each.
import { level } from "./progress.js";

document.querySelectorAll("[data-level]").forEach((li) => {
  const rec = level(li.dataset.level);
  if (!rec?.passed) return;
  const status = li.querySelector("[data-field=status]");
  status.textContent = `✓ ${status.dataset.passed} · ${status.dataset.best} ${rec.fewest}`;
  li.classList.add("passed");
});
