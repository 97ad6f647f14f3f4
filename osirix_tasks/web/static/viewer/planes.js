// One plane cache for every viewport, bounded by bytes (oldest dropped first), with a fetch queue
// (a few requests in flight, urgent ones first) so a scroll asks for what is shown before prefetches.
// Prefetched planes of DCMPix travel a few to a request (GET /api/pix?uids=...: one round trip for
// them, half the requests' cost on a busy machine); the plane to show now goes alone, first.
import { manyPixels, pixels } from "../api.js";

const ARRAYS = { float32: Float32Array, uint16: Uint16Array, int16: Int16Array, argb8: Uint8Array };

export class PlaneCache {
  constructor(budgetBytes = 512 * 1024 * 1024, parallel = 4, together = 4) {
    this.budget = budgetBytes;
    this.parallel = parallel;
    this.together = together;
    this.planes = new Map();   // key -> plane {rows, columns, format, values, range, bytes}
    this.bytes = 0;
    this.loading = new Map();  // key -> promise
    this.queue = [];
    this.inFlight = 0;
    this.listeners = new Set();
  }

  get(key) {
    const plane = this.planes.get(key);
    if (plane) { this.planes.delete(key); this.planes.set(key, plane); }
    return plane;
  }

  has(key) { return this.planes.has(key); }

  put(key, plane) {
    this.drop(key);
    plane.bytes = plane.values.byteLength;
    this.planes.set(key, plane);
    this.bytes += plane.bytes;
    while (this.bytes > this.budget && this.planes.size > 1) this.drop(this.planes.keys().next().value);
  }

  drop(key) {
    const old = this.planes.get(key);
    if (!old) return;
    this.planes.delete(key);
    this.bytes -= old.bytes;
    old.dropped = true;  // renderers free the plane's texture
  }

  // Forget every plane (those on their way still arrive).
  clear() { for (const key of [...this.planes.keys()]) this.drop(key); }

  // Forget every plane whose key starts with prefix (a task changed a viewer's pixels).
  dropPrefix(prefix) { for (const key of [...this.planes.keys()]) if (key.startsWith(prefix)) this.drop(key); }

  // The plane `key` (fetched from `url`; `pix`: its DCMPix uid, when it may travel with others).
  load(key, url, urgent = false, pix = null) {
    if (this.planes.has(key)) return Promise.resolve(this.get(key));
    if (this.loading.has(key)) {
      if (urgent) {
        const at = this.queue.findIndex((q) => q.key === key);
        if (at >= 0) { const [entry] = this.queue.splice(at, 1); entry.urgent = true; this.queue.unshift(entry); }
      }
      return this.loading.get(key);
    }
    const promise = new Promise((resolve, reject) => {
      const entry = { key, url, pix, urgent, resolve, reject };
      if (urgent) this.queue.unshift(entry); else this.queue.push(entry);
    });
    this.loading.set(key, promise);
    this.pump();
    return promise;
  }

  // The next request: the first waiting plane, with prefetched DCMPix planes after it when it is one.
  next() {
    const first = this.queue.shift(), group = [first];
    if (!first.pix || first.urgent) return group;
    for (let i = 0; i < this.queue.length && group.length < this.together;) {
      if (this.queue[i].pix && !this.queue[i].urgent) group.push(...this.queue.splice(i, 1)); else i++;
    }
    return group;
  }

  pump() {
    while (this.inFlight < this.parallel && this.queue.length) {
      const group = this.next();
      if (group[0].pix && !group[0].urgent && group.length < this.together && this.inFlight > 0) {
        this.queue.unshift(...group);  // prefetches wait for a full group while other planes are on their way
        break;
      }
      this.inFlight++;
      const asked = group.length > 1 ? manyPixels(group.map((e) => e.pix)) : pixels(group[0].url).then((image) => [image]);
      asked.then((images) => images.forEach((image, i) => this.arrived(group[i], image)), (error) => { for (const e of group) e.reject(error); })
        .finally(() => { this.inFlight--; for (const e of group) this.loading.delete(e.key); this.pump(); });
    }
  }

  arrived({ key, resolve, reject }, image) {
    if (image.error) { reject(image.error); return; }
    // kept as they came (16-bit integers when exact: half the bytes of floats), no copy
    const values = new (ARRAYS[image.format] || Uint8Array)(image.data);
    const plane = { key, rows: image.rows, columns: image.columns, format: image.format, values, range: image.range };
    this.put(key, plane);
    resolve(plane);
    for (const listener of this.listeners) listener(key, plane);
  }
}
