// OsiriX's enumerations as the host serves them (GET /api/vocabulary), from the one Python table
// (osirix_tasks/vocabulary.py): ROI types with their code, OsiriX name, label, shape, closed and
// drawable flags; the 3D rendering modes; the task types; what a new ROI is drawn with.

// The vocabulary with lookups: byCode, the closed and drawable codes, label(code).
export function indexVocabulary(data) {
  const byCode = new Map(data.roi_types.map((type) => [type.code, type]));
  const codes = (test) => new Set(data.roi_types.filter(test).map((type) => type.code));
  return {
    ...data,
    byCode,
    closed: codes((type) => type.closed),
    drawable: codes((type) => type.drawable),
    label: (code) => byCode.get(code)?.label ?? `type ${code}`,
  };
}

// Fetch it once with the page's `get` (api.js) and index it.
let loaded = null;
export function loadVocabulary(get) {
  loaded ??= get("/api/vocabulary").then(indexVocabulary);
  return loaded;
}
