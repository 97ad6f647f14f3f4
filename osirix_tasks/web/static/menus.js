// The "gRPC Tasks" toolbar menu of each window: Database tasks in the database window, "Image Filter"
// and "ROI Filter" in the 2D viewer, VRController tasks in the 3D viewer. An entry whose context is
// missing says why (in the window's status line) instead of running.
import { escapeHtml, get, post, setStatus } from "./api.js";
import { emit } from "./bus.js";

const handlers = {};  // window name -> { before(), statusElement, extra() }

export function register(windowName, options) { handlers[windowName] = options; }

function close() { document.querySelectorAll(".menu-pop").forEach((pop) => pop.remove()); }

async function open(holder) {
  close();
  const windowName = holder.dataset.window;
  const pop = document.createElement("div");
  pop.className = "menu-pop";
  pop.innerHTML = '<div class="none">Loading&hellip;</div>';
  holder.appendChild(pop);
  let data;
  try { data = await get("/api/menus"); } catch (error) { pop.innerHTML = `<div class="none">${escapeHtml(error.message)}</div>`; return; }
  const window = data.windows.find((w) => w.window === windowName);
  let html = "";
  for (const menu of window ? window.menus : []) {
    if (menu.submenu) html += `<div class="submenu-title">${escapeHtml(menu.submenu)}</div>`;
    if (!menu.entries.length) html += '<div class="none">(no tasks)</div>';
    for (const entry of menu.entries) {
      html += `<div class="item" data-name="${escapeHtml(entry.name)}" data-type="${escapeHtml(menu.type)}" title="${escapeHtml(entry.description || entry.origin)}">${escapeHtml(entry.name)}</div>`;
    }
  }
  pop.innerHTML = html || '<div class="none">(no tasks)</div>';
}

async function choose(holder, item) {
  close();
  const options = handlers[holder.dataset.window] || {};
  const status = options.status ? document.querySelector(options.status) : null;
  try {
    await options.before?.();
    const data = await post("/api/menus/run", { name: item.dataset.name, type: item.dataset.type, ...(options.extra?.() || {}) });
    if (!data.started) {
      if (status) setStatus(status, `${item.dataset.name}: ${data.reason}`, true);
      return;
    }
    if (status) setStatus(status, `Started '${item.dataset.name}' (run ${data.run.id})`);
    emit("run-started", data.run);
  } catch (error) {
    if (status) setStatus(status, error.message, true);
  }
}

export function init() {
  for (const holder of document.querySelectorAll(".grpc-menu")) {
    holder.innerHTML = '<button type="button">gRPC Tasks &#9662;</button>';
    holder.querySelector("button").addEventListener("click", (event) => {
      event.stopPropagation();
      if (holder.querySelector(".menu-pop")) close(); else open(holder);
    });
    holder.addEventListener("click", (event) => {
      const item = event.target.closest(".item");
      if (item) { event.stopPropagation(); choose(holder, item); }
    });
  }
  document.addEventListener("click", close);
}
