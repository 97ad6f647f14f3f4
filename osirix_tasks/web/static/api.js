// The page's calls to the host: JSON in and out, the token kept from the URL, errors as exceptions.

const params = new URLSearchParams(location.search);
if (params.get("token")) sessionStorage.setItem("osirix-tasks-token", params.get("token"));
export const token = sessionStorage.getItem("osirix-tasks-token") || "";
if (params.get("token")) {  // the cookie carries it from now on; keep it out of the address bar
  params.delete("token");
  history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : "") + location.hash);
}

export class ApiError extends Error {
  constructor(message, status, fields) { super(message); this.status = status; this.fields = fields || {}; }
}

export async function call(method, path, body) {
  const options = { method, headers: { "X-Osirix-Tasks-Token": token } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { error: text }; }
  if (!response.ok) throw new ApiError(data.error || `${response.status} ${response.statusText}`, response.status, data.fields);
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body ?? {});
export const put = (path, body) => call("PUT", path, body ?? {});
export const del = (path, body) => call("DELETE", path, body);

// Binary pixels: { rows, columns, format, data: ArrayBuffer }.
export async function pixels(path) {
  const response = await fetch(path, { headers: { "X-Osirix-Tasks-Token": token } });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error || message; } catch { /* not JSON */ }
    throw new ApiError(message, response.status);
  }
  const data = await response.arrayBuffer();
  const h = response.headers;
  return { rows: +h.get("X-Rows"), columns: +h.get("X-Columns"), format: h.get("X-Format"), mode: h.get("X-Mode"), data };
}

export function events(path) {
  // EventSource cannot send headers: the token goes in the query (the cookie would do too).
  return new EventSource(`${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`);
}

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function setStatus(element, message, isError = false) {
  element.textContent = message || "";
  element.classList.toggle("error", !!isError);
}
