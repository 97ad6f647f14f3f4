// The database window's list as the user narrows and orders it: search, filters and sort over the
// studies the host listed (pure, so node can test it). Series stay under their study, in its order.

// The columns a study row has, in the table's order: [key, heading].
export const COLUMNS = [
  ["patient", "Patient name"], ["patient_id", "Patient ID"], ["birth_date", "Date of birth"],
  ["accession", "Accession number"], ["study_id", "Study ID"], ["description", "Description"],
  ["date", "Date"], ["modality", "Modality"], ["images", "Images"],
];

// OsiriX's time intervals of the database window (by study date): name -> days back (0: today).
export const WHEN = { "Any date": null, Today: 0, "Last 7 days": 6, "Last month": 30, "Last year": 365 };

const SEARCHED = ["patient", "patient_id", "accession", "study_id", "description"];

// The studies that match: `text` in a searched field of the study or in a series description
// (case-insensitive), `modality` among the study's modalities ("" = any), a study date within `when`
// (a WHEN name) of `today` (a Date).
export function filterStudies(studies, { text = "", modality = "", when = "Any date" } = {}, today = new Date()) {
  const needle = text.trim().toLowerCase();
  const days = WHEN[when] ?? null;
  const first = days === null ? null : dayOf(new Date(today.getFullYear(), today.getMonth(), today.getDate() - days));
  return studies.filter((s) => {
    if (needle && !SEARCHED.some((k) => String(s[k] ?? "").toLowerCase().includes(needle))
      && !s.series.some((r) => String(r.description ?? "").toLowerCase().includes(needle))) return false;
    if (modality && !modalitiesOf(s).includes(modality)) return false;
    if (first !== null && !(s.date && s.date.slice(0, 10) >= first)) return false;
    return true;
  });
}

// The modalities of a study ("CT\\PT" or "CT/PT" in OsiriX's modalities field, and its series').
export function modalitiesOf(study) {
  const split = (text) => String(text || "").split(/[\\/ ,]+/).filter(Boolean);
  return [...new Set([...split(study.modality), ...(study.series || []).flatMap((r) => split(r.modality))])];
}

// Studies ordered by a column (`key` of COLUMNS), ascending or not; empty values last either way;
// ties keep the host's order. No key: the host's order.
export function sortStudies(studies, key, ascending = true) {
  if (!key) return [...studies];
  const numeric = key === "images";
  return studies.map((s, i) => [s, i]).sort(([a, i], [b, j]) => {
    const x = a[key], y = b[key];
    const ex = x === null || x === undefined || x === "", ey = y === null || y === undefined || y === "";
    if (ex || ey) return ex === ey ? i - j : ex ? 1 : -1;
    const order = numeric ? x - y : String(x).localeCompare(String(y), undefined, { sensitivity: "base", numeric: true });
    return (ascending ? order : -order) || i - j;
  }).map(([s]) => s);
}

function dayOf(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
