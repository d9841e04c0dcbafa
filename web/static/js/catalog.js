// catalog.js is the lab's catalog as the server embeds it in every page
// (<script id="lab-catalog" type="application/json">, GET /api/catalog
// less the claim table): guarantees, faults, recipes and the run limits.
// Scripts read lists from it, never literals.
export const catalog = JSON.parse(document.getElementById("lab-catalog")?.textContent || "{}");

// fault returns the catalog's entry for a fault id, or undefined.
export const fault = (id) => (catalog.faults || []).find((f) => f.id === id);

// injectable lists the faults a running run can be given.
export const injectable = () => (catalog.injectable || []).map(fault);
