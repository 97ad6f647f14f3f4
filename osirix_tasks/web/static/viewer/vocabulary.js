// OsiriX's ROI types as the host serves them (GET /api/vocabulary): the page holds no type number.
import { get } from "../api.js";

let loaded = null;

export async function loadVocabulary() {
  if (!loaded) {
    loaded = get("/api/vocabulary").then((data) => {
      const types = new Map(data.roi_types.map((t) => [t.code, t]));
      const byName = new Map(data.roi_types.map((t) => [t.name, t]));
      return { types, byName, newRoi: data.new_roi || { color: [0, 255, 0], thickness: 2, opacity: 1 } };
    });
  }
  return loaded;
}
