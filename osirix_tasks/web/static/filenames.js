// File names the host's answers give (api.js saves downloads under them).

// The file name a Content-Disposition header gives (RFC 6266: filename*=UTF-8''... first, then
// filename="..."), without folders; `fallback` when there is none.
export function filenameOf(disposition, fallback = "download") {
  const text = String(disposition || "");
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(text);
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(text);
  let name = null;
  if (extended) { try { name = decodeURIComponent(extended[1].trim()); } catch { name = null; } }
  if (!name && plain) name = plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : plain[2];
  name = (name || "").split(/[\\/]/).pop().trim();
  return name && name !== "." && name !== ".." ? name : fallback;
}
