// Loads the acquisition page's own scripts into Node the way the page loads them: as classic
// scripts, in the page's order, sharing one global scope (their top-level `const DER` and
// `const PKCS` are visible to each other and to us exactly as in the browser). Node 20 provides
// what the page takes from the browser: crypto.subtle, TextEncoder, btoa and atob.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";

const here = path.dirname(fileURLToPath(import.meta.url));
export const staticFolder = path.resolve(here, "../../Sources/WebFrontEnd/Resources/static");

// The scripts in the order of the page's <script> tags (templates/acquire-result.mustache), all
// but acquire.js, the page's glue to its form, which needs a document.
const template = readFileSync(path.resolve(staticFolder, "../templates/acquire-result.mustache"), "utf8");
export const pageScripts = [...template.matchAll(/<script src="\/static\/([a-z]+\.js)"/g)].map((m) => m[1]);
for (const name of pageScripts.filter((name) => name !== "acquire.js")) {
  const file = path.join(staticFolder, name);
  vm.runInThisContext(readFileSync(file, "utf8"), { filename: file });
}
export const DER = vm.runInThisContext("DER");
export const PKCS = vm.runInThisContext("PKCS");

export const hex = (bytes) => Buffer.from(bytes).toString("hex");
export const fromHex = (text) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));

/** Runs a tool, returning { status, stdout, stderr } (stdout as a Buffer when `binary`). */
export function run(command, args, { input, binary = false, env } = {}) {
  const result = spawnSync(command, args, { input, env: env ? { ...process.env, ...env } : process.env, maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: binary ? result.stdout : result.stdout.toString(), stderr: result.stderr.toString() };
}

/** A temporary folder removed when `body` ends. */
export async function withFolder(body) {
  const folder = mkdtempSync(path.join(tmpdir(), "bizdirect-scripts-"));
  try { return await body(folder); } finally { rmSync(folder, { recursive: true, force: true }); }
}
