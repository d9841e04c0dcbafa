// catalog.js is the lab's catalog as the server embeds it in every page
// (<script id="lab-catalog" type="application/json">, GET /api/catalog
// less the claim table): guarantees, faults, recipes and the run limits.
// Scripts read lists from it, never literals.
export const catalog = JSON.parse(document.getElementById("lab-catalog")?.textContent || "{}");

// texts are the page's script texts in its language (lab-i18n, embedded
// like the catalog), with those the page already shows as data-t
// elements (the run form's fault descriptions), which lab-i18n leaves out.
export const texts = () => {
  const t = JSON.parse(document.getElementById("lab-i18n")?.textContent || "{}");
  for (const el of document.querySelectorAll("[data-t]")) t[el.dataset.t] ??= el.textContent;
  return t;
};

// fault returns the catalog's entry for a fault id, or undefined.
export const fault = (id) => (catalog.faults || []).find((f) => f.id === id);

// injectable lists the faults a running run can be given.
export const injectable = () => (catalog.injectable || []).map(fault);

// failure is why a run failed, in the page's language when the lab itself
// ended it (error_key), else the API's sentence.
export const failure = (t, run) => t[`error.end.${run.error_key}`] || run.error || "";

// named is an id as the page shows it: "produce-ack-lost (확인 응답 유실)"
// on a Korean page, the id alone on an English one (t.ids is
// "id=label;…", Korean only: server/panel.go).
export const named = (t, id) => {
  const label = `;${t.ids || ""}`.split(`;${id}=`)[1]?.split(";")[0];
  return label ? `${id} (${label})` : id;
};
