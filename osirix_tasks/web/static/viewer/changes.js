// What to read again after a poll, from the host's change counters (GET /api/changes?since=N: for each
// viewer changed after change N, the number of the last change of its pixels, ROIs and display; and
// of the windows) or, where the host has none (a real OsiriX), from one token per shown viewer.
// Pure: the viewer module asks, and does the reading.

// The counters' answer -> {since, windows, viewers: Map(uid -> Set of aspects to read again)}.
// `seen` is what the last answer said (this function's last result); null at first, when only the ROIs
// of shown viewers that have any change of ROIs are read again (drawn between the page's first read
// and this answer).
export function fromCounters(answer, seen, shown) {
  const out = { since: answer.now, windows: answer.windows ?? 0, versions: new Map(seen?.versions ?? []), reload: new Map(), titles: false };
  for (const [uid, versions] of Object.entries(answer.viewers || {})) {
    const before = out.versions.get(uid);
    out.versions.set(uid, versions);
    if (!shown.has(uid)) continue;
    if (!seen) { if (versions.rois) out.reload.set(uid, new Set(["rois"])); continue; }
    const aspects = new Set();
    for (const aspect of ["pixels", "rois", "display"]) {
      if ((versions[aspect] ?? 0) > (before?.[aspect] ?? seen.since)) aspects.add(aspect);
    }
    if (aspects.size) out.reload.set(uid, aspects);
    if (aspects.has("display")) out.titles = true;
  }
  if (seen && out.windows !== seen.windows) out.titles = true;
  return out;
}

// One viewer's token (GET /api/viewers/{uid}/version) -> the aspects to read again: all when it
// changed (a token does not tell which), the ROIs at first sight, none when it is the one seen last.
export function fromToken(token, before) {
  if (before === undefined) return new Set(["rois"]);
  if (before === token) return new Set();
  return new Set(["pixels", "rois", "display"]);
}
