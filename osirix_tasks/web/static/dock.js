// The task console dock under every view: resizable by dragging its top edge, collapsible; its height
// and state are kept for the next visit (localStorage).
const KEY = "osirix-tasks-dock";
const MIN = 40;

export function init() {
  const dock = document.querySelector("#dock"), output = document.querySelector("#dock-output");
  const toggle = document.querySelector("#dock-toggle");
  const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
  const apply = ({ height = 120, collapsed = false }) => {
    output.style.height = `${height}px`;
    dock.classList.toggle("collapsed", collapsed);
    toggle.textContent = collapsed ? "Show" : "Hide";
    localStorage.setItem(KEY, JSON.stringify({ height, collapsed }));
    window.dispatchEvent(new Event("resize"));
  };
  let state = { height: saved.height || 120, collapsed: !!saved.collapsed };
  apply(state);
  toggle.addEventListener("click", () => { state = { ...state, collapsed: !state.collapsed }; apply(state); });
  document.querySelector("#dock .dock-grip").addEventListener("pointerdown", (event) => {
    event.preventDefault();
    const startY = event.clientY, startHeight = state.collapsed ? 0 : state.height;
    const move = (e) => {
      const height = Math.max(MIN, Math.min(window.innerHeight * 0.7, startHeight + (startY - e.clientY)));
      state = { height: Math.round(height), collapsed: false };
      apply(state);
    };
    const up = () => { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  });
}
