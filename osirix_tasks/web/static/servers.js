// Server Configuration: the plugin's server list (Active light, address), stop/start, -/+;
// errors appear under the table, as in the plugin's window.
import { del, escapeHtml, get, post, put, setStatus } from "./api.js";

let selected = null;
const status = () => document.querySelector("#srv-status");

function render(data) {
  const body = document.querySelector("#srv-table tbody");
  if (!data.servers.some((s) => s.port === selected)) selected = null;
  body.innerHTML = data.servers.map((s) => `<tr data-port="${s.port}" class="${s.port === selected ? "selected" : ""}">
    <td><span class="light ${s.active ? "on" : ""}" title="${s.active ? "active" : "inactive"}"></span></td>
    <td>${escapeHtml(s.address)}</td><td>${s.ours ? "this host" : s.active ? "another process" : ""}</td></tr>`).join("");
  document.querySelector("#srv-target").placeholder = `empty: this host's own (now ${data.target || "none"})`;
  document.querySelector("#srv-target").value = data.explicit_target || "";
}

async function act(promise) {
  try {
    const data = await promise;
    render(data);
    setStatus(status(), data.message || "");
    return true;
  } catch (error) {
    setStatus(status(), error.message, true);
    return false;
  }
}

export function init() {
  const body = document.querySelector("#srv-table tbody");
  body.addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (!row) return;
    selected = +row.dataset.port;
    for (const r of body.querySelectorAll("tr")) r.classList.toggle("selected", r === row);
  });
  const needSelection = (fn) => () => { if (selected == null) setStatus(status(), "Select a server first", true); else fn(); };
  document.querySelector("#srv-start").addEventListener("click", needSelection(() => act(post(`/api/servers/${selected}/start`))));
  document.querySelector("#srv-stop").addEventListener("click", needSelection(() => act(post(`/api/servers/${selected}/stop`))));
  document.querySelector("#srv-remove").addEventListener("click", needSelection(() => act(del(`/api/servers/${selected}`))));
  const sheet = document.querySelector("#srv-sheet");
  document.querySelector("#srv-add").addEventListener("click", () => {
    sheet.hidden = false;
    document.querySelector("#srv-port").value = "";
    setStatus(document.querySelector("#srv-sheet-status"), "");
    document.querySelector("#srv-port").focus();
  });
  document.querySelector("#srv-cancel").addEventListener("click", () => { sheet.hidden = true; });
  sheet.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const data = await post("/api/servers", { port: document.querySelector("#srv-port").value });
      sheet.hidden = true;
      render(data);
      setStatus(status(), data.message);
    } catch (error) {
      setStatus(document.querySelector("#srv-sheet-status"), error.message, true);
    }
  });
  document.querySelector("#srv-target-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const note = document.querySelector("#srv-target-status");
    try {
      render(await put("/api/servers/target", { address: document.querySelector("#srv-target").value }));
      setStatus(note, "The database, viewer and 3D views now show this OsiriX");
    } catch (error) { setStatus(note, error.message, true); }
  });
}

export function shown() { act(get("/api/servers")); }
