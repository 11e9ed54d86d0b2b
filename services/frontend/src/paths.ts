// Templates and static files live beside src/ and dist/ (in views/ and public/), so they
// are found the same way from the TypeScript sources and from the compiled output.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const VIEWS_DIR = path.join(PACKAGE_ROOT, "views");
export const PUBLIC_DIR = path.join(PACKAGE_ROOT, "public");

/** Pico's compiled CSS, served locally (never from a CDN: the CSP allows 'self' only). */
export const PICO_CSS_DIR = path.join(
  path.dirname(createRequire(import.meta.url).resolve("@picocss/pico/package.json")),
  "css",
);
