// Bundle frontend/src into dfws_web/static/js/df_websockets.min.js (+ .map).
//
//   node build.mjs [outdir]      outdir defaults to ../dfws_web/static/js
//   node build.mjs --check       exit 1 when the committed bundle is not this build,
//                                2 when esbuild fails (make frontend-check, the browser tests)
//
// The output depends only on the sources and the pinned esbuild: it is built
// in memory as if it lived in this folder, so the source map names
// "src/....ts" whatever the outdir, and a rebuild can be compared byte for
// byte with the committed file.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
export const BUNDLE_NAME = "df_websockets.min.js";
const DEFAULT_OUTDIR = path.join(here, "..", "dfws_web", "static", "js");

/**
 * Build the bundle in memory.
 * @returns {Promise<{js: string, map: string}>}
 */
export async function buildBundle() {
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: ["src/index.ts"],
    outfile: BUNDLE_NAME,
    bundle: true,
    format: "iife",
    platform: "browser",
    target: ["es2020"],
    minify: true,
    sourcemap: "linked",
    sourcesContent: true,
    legalComments: "none",
    charset: "utf8",
    banner: { js: "/* dfws browser client (window.DFSignals); built from frontend/ by build.mjs, do not edit */" },
    write: false,
    logLevel: "warning",
  });
  /** @param {string} suffix */
  const output = (suffix) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(suffix));
    if (!file) throw new Error(`esbuild produced no *${suffix}`);
    return file.text;
  };
  return { js: output(".js"), map: output(".js.map") };
}

/** @param {string} outdir */
export async function writeBundle(outdir) {
  const { js, map } = await buildBundle();
  await mkdir(outdir, { recursive: true });
  await writeFile(path.join(outdir, BUNDLE_NAME), js);
  await writeFile(path.join(outdir, `${BUNDLE_NAME}.map`), map);
  return path.join(outdir, BUNDLE_NAME);
}

/**
 * The committed files that differ from a fresh build, named from the repository's root
 * (none: the bundle is fresh).
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
export async function staleFiles(dir = DEFAULT_OUTDIR) {
  const { js, map } = await buildBundle();
  /** @param {string} name */
  const committed = (name) => readFile(path.join(dir, name), "utf8").catch(() => null);
  const stale = [];
  if ((await committed(BUNDLE_NAME)) !== js) stale.push(BUNDLE_NAME);
  if ((await committed(`${BUNDLE_NAME}.map`)) !== map) stale.push(`${BUNDLE_NAME}.map`);
  return stale.map((name) => path.relative(path.join(here, ".."), path.join(dir, name)));
}

async function check() {
  let stale;
  try {
    stale = await staleFiles();
  } catch (error) {
    console.error(`esbuild failed, the bundle could not be built (not a stale bundle):\n${error}`);
    process.exit(2);
  }
  if (stale.length) {
    console.error(`${stale.join(", ")} stale: run 'cd frontend && npm run build' and commit it`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  if (process.argv[2] === "--check") {
    await check();
  } else {
    const outdir = path.resolve(process.argv[2] ?? DEFAULT_OUTDIR);
    const written = await writeBundle(outdir);
    console.log(`wrote ${path.relative(process.cwd(), written) || written} (+ .map)`);
  }
}
