// The page: one view per OsiriX window, switched by the address's #fragment; the run list is watched
// once for every view (a finished run makes the viewers redraw what a task changed).
import { events } from "./api.js";
import * as batch from "./batch.js";
import { emit } from "./bus.js";
import * as consoleView from "./console.js";
import * as database from "./database.js";
import * as dicom from "./dicom.js";
import * as dock from "./dock.js";
import { info } from "./early.js";
import * as menus from "./menus.js";
import * as scripts from "./scripts.js";
import * as servers from "./servers.js";
import * as viewer from "./viewer.js";
import * as vr from "./vr.js";

const views = { database, viewer, vr, dicom, servers, scripts, console: consoleView, batch };
const WINDOW_VIEWS = new Set(["servers", "scripts", "console", "dicom", "batch"]);
let current = null;

export function show(name) {
  if (!views[name]) name = "database";
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  for (const section of document.querySelectorAll(".view")) section.classList.toggle("active", section.id === "view-" + name);
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.dataset.view === name);
  document.body.classList.toggle("window-view", WINDOW_VIEWS.has(name));
  current = name;
  document.title = `${document.querySelector("#view-" + name).dataset.title} - osirix-tasks`;
  views[name].shown?.();
  emit("view", name);
}

function watchRuns() {
  let known = null; // the runs of the last event; null until the first one (runs that ended before the page)
  const source = events("/api/runs/events");
  source.addEventListener("runs", (event) => {
    const runs = JSON.parse(event.data);
    for (const run of runs) {
      if (known === null || !run.finished) continue;
      const before = known.get(run.id);
      // a run seen running that has ended, or a new run that ended before any event showed it running
      // (a warm launcher can start and finish a short task between two events)
      if (before === undefined || !before.finished) emit("run-finished", run);
    }
    known = new Map(runs.map((r) => [r.id, r]));
    emit("runs", runs);
  });
}

async function start() {
  window.osirixTasks = { ready: false, show };
  const shownInfo = info.then((answer) => {
    document.querySelector("#target").textContent =
      `osirix-tasks ${answer.version} - ports ${answer.ports.join(", ") || "none"} - registry ${answer.registry}`;
  });
  const inits = Object.values(views).map((module) => module.init?.({ show }));
  const first = views[location.hash.slice(1)] ? location.hash.slice(1) : "database";
  if (first === "database") show(first);  // the listing needs nothing the other views wait for
  await Promise.all([shownInfo, ...inits]);
  menus.init({ show });
  dock.init();
  watchRuns();
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  if (first !== "database") show(first);
  window.osirixTasks.ready = true;
  document.body.dataset.ready = "1";
}

start();
