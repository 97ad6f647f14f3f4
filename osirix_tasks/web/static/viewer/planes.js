// One plane cache for every viewport, bounded by bytes (oldest dropped first), with a fetch queue
// (a few requests in flight, urgent ones first) so a scroll asks for what is shown before prefetches.
import { pixels } from "../api.js";

const ARRAYS = { float32: Float32Array, uint16: Uint16Array, int16: Int16Array, argb8: Uint8Array };

export class PlaneCache {
  constructor(budgetBytes = 512 * 1024 * 1024, parallel = 6) {
    this.budget = budgetBytes;
    this.parallel = parallel;
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

  load(key, url, urgent = false) {
    if (this.planes.has(key)) return Promise.resolve(this.get(key));
    if (this.loading.has(key)) {
      if (urgent) {
        const at = this.queue.findIndex((q) => q.key === key);
        if (at > 0) this.queue.unshift(...this.queue.splice(at, 1));
      }
      return this.loading.get(key);
    }
    const promise = new Promise((resolve, reject) => {
      const entry = { key, url, resolve, reject };
      if (urgent) this.queue.unshift(entry); else this.queue.push(entry);
    });
    this.loading.set(key, promise);
    this.pump();
    return promise;
  }

  pump() {
    while (this.inFlight < this.parallel && this.queue.length) {
      const { key, url, resolve, reject } = this.queue.shift();
      this.inFlight++;
      pixels(url).then((image) => {
        // kept as they came (16-bit integers when exact: half the bytes of floats), no copy
        const values = new (ARRAYS[image.format] || Uint8Array)(image.data);
        const plane = { key, rows: image.rows, columns: image.columns, format: image.format, values, range: image.range };
        this.put(key, plane);
        resolve(plane);
        for (const listener of this.listeners) listener(key, plane);
      }, reject).finally(() => { this.inFlight--; this.loading.delete(key); this.pump(); });
    }
  }
}
