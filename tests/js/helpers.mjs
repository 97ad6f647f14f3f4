// What the page's tests share: where the static modules are, and the vocabulary as Python serves it.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// A static ES module of the page, by file name.
export const staticModule = (name) => pathToFileURL(join(root, "osirix_tasks", "web", "static", name)).href;

// The JSON of GET /api/vocabulary, made by the project's own Python (the venv's, else python3).
export function pythonVocabulary() {
  const venv = join(root, ".venv", "bin", "python");
  const python = process.env.PYTHON || (existsSync(venv) ? venv : "python3");
  const code = "import json; from osirix_tasks.vocabulary import as_json; print(json.dumps(as_json()))";
  return JSON.parse(execFileSync(python, ["-c", code], { cwd: root, encoding: "utf-8" }));
}
