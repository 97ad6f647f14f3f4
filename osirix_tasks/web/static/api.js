// The page's calls to the host: JSON in and out, errors as exceptions.
// The token comes in the address the user opened; it is kept in this tab's session storage (never a
// cookie: cookies reach every port of 127.0.0.1), taken out of the address bar, and sent in a header.
// Changes go as JSON from this page (the host also checks their Origin); event streams, which a
// browser opens without headers, get a single-use ticket each.

import { filenameOf } from "./filenames.js";

const TOKEN_KEY = "osirix-tasks-token";
const params = new URLSearchParams(location.search);
if (params.get("token")) sessionStorage.setItem(TOKEN_KEY, params.get("token"));
export const token = sessionStorage.getItem(TOKEN_KEY) || "";
if (params.has("token")) {
  params.delete("token");
  history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : "") + location.hash);
}
const authorised = (headers = {}) => ({ ...headers, "X-Osirix-Tasks-Token": token });
if (!token) {  // opened without its address's token (a bookmark, another tab): say what to do
  const note = document.createElement("p");
  note.className = "status error";
  note.textContent = "This page needs its token: open the full address 'osirix-tasks serve' printed, or run 'osirix-tasks ui'.";
  document.body.prepend(note);
}

export class ApiError extends Error {
  constructor(message, status, fields) { super(message); this.status = status; this.fields = fields || {}; }
}

async function failure(response) {
  const text = await response.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { error: text }; }
  return new ApiError(data.error || `${response.status} ${response.statusText}`, response.status, data.fields);
}

export async function call(method, path, body) {
  const options = { method, headers: authorised() };
  if (method !== "GET" && method !== "HEAD") {  // every change is JSON, even an empty one
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body ?? {});
  }
  const response = await fetch(path, options);
  if (!response.ok) throw await failure(response);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const put = (path, body) => call("PUT", path, body);
export const del = (path, body) => call("DELETE", path, body);

// One file's bytes, sent as they are (the host streams them to disk).
export async function upload(path, file) {
  const response = await fetch(path, {
    method: "PUT", body: file, headers: authorised({ "Content-Type": "application/octet-stream" }),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// Save what a GET answers as a file of the user's (the page's token goes in a header, so a plain link
// cannot fetch it: the answer is saved from a Blob through an object URL). The name is `filename`, else
// the one the answer's Content-Disposition gives; answers the name saved.
export async function download(path, filename = null) {
  const response = await fetch(path, { headers: authorised() });
  if (!response.ok) throw await failure(response);
  const name = filename || filenameOf(response.headers.get("Content-Disposition"));
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  return name;
}

// Binary pixels: { rows, columns, format, data: ArrayBuffer, range: [low, high] of the values or null }.
export async function pixels(path) {
  const response = await fetch(path, { headers: authorised() });
  if (!response.ok) throw await failure(response);
  const data = await response.arrayBuffer();
  const h = response.headers;
  const range = h.has("X-Low") && h.has("X-High") ? [+h.get("X-Low"), +h.get("X-High")] : null;
  return { rows: +h.get("X-Rows"), columns: +h.get("X-Columns"), format: h.get("X-Format"), mode: h.get("X-Mode"), data, range };
}

// Several DCMPix planes in one request, in the order of `uids`: each as pixels() gives it, or
// { error: ApiError } for a plane the host could not read.
export async function manyPixels(uids) {
  const response = await fetch(`/api/pix?uids=${uids.map(encodeURIComponent).join(",")}`, { headers: authorised() });
  if (!response.ok) throw await failure(response);
  const body = await response.arrayBuffer(), listing = JSON.parse(response.headers.get("X-Planes"));
  let at = 0;
  return listing.map((p) => {
    if (p.error !== undefined) return { error: new ApiError(p.error, 409) };
    const data = body.slice(at, (at += p.bytes));
    return { rows: p.rows, columns: p.columns, format: p.format, data, range: p.low !== undefined ? [p.low, p.high] : null };
  });
}

// An event stream that stays open: each connection gets a single-use ticket; when the host ends a
// stream (it does after a while) or it breaks, a new one opens with a new ticket and goes on after
// the last event received. Used like an EventSource (addEventListener, close); onerror is called
// only when the page's token is refused.
export function events(path) {
  const listeners = [];
  let source = null, closed = false, lastId = null, delay = 250;
  const stream = {
    onerror: null,
    addEventListener(type, listener) {
      const relay = (event) => { if (event.lastEventId) lastId = event.lastEventId; listener(event); };
      listeners.push([type, relay]);
      source?.addEventListener(type, relay);
    },
    close() { closed = true; source?.close(); },
  };
  const [streamPath, given] = path.split("?");
  async function open() {
    if (closed) return;
    let ticket;
    try { ticket = (await post("/api/tickets", { path: streamPath })).ticket; }
    catch (error) {
      if (error.status === 403) { closed = true; stream.onerror?.(error); return; }
      setTimeout(open, delay = Math.min(delay * 2, 10000));
      return;
    }
    if (closed) return;
    const query = new URLSearchParams(given || "");
    query.set("ticket", ticket);
    if (lastId !== null) query.set("last_event_id", lastId);
    source = new EventSource(`${streamPath}?${query}`);
    for (const [type, relay] of listeners) source.addEventListener(type, relay);
    source.onopen = () => { delay = 250; };
    source.onerror = () => {  // ended by the host, or broken: a new ticket (this one is spent)
      source.close();
      if (!closed) setTimeout(open, delay = Math.min(delay * 2, 10000));
    };
  }
  open();
  return stream;
}

export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function setStatus(element, message, isError = false) {
  element.textContent = message || "";
  element.classList.toggle("error", !!isError);
}
