// Page-wide events: "runs" (the run list changed), "run-finished" (a run ended), "run-started",
// "view" (another window was shown), "viewer-opened", "vr-opened", "database-changed" (the host's
// database changed: the database view has read it again), "batch-started" (the database window started a
// batch: its id).
export const bus = new EventTarget();
export const emit = (name, detail) => bus.dispatchEvent(new CustomEvent(name, { detail }));
export const on = (name, handler) => bus.addEventListener(name, (event) => handler(event.detail));
