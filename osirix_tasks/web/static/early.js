// What the page asks the host for before its other modules are loaded (index.html runs this module
// first, with api.js only): the database listing, the view the page opens on, and the host's info.
import { get } from "./api.js";

export const listing = get("/api/database");
export const info = get("/api/info");
for (const promise of [listing, info]) promise.catch(() => {});  // their users report failures
