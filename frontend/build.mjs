// Bundle frontend/src into dfws_web/static/js/df_websockets.min.js (+ .map).
//
//   node build.mjs [outdir]      outdir defaults to ../dfws_web/static/js
//
// The output depends only on the sources and the pinned esbuild: it is built
// in memory as if it lived in this folder, so the source map names
// "src/....ts" whatever the outdir, and a rebuild can be compared byte for
// byte with the committed file.
import { mkdir, writeFile } from "node:fs/promises";
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

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outdir = path.resolve(process.argv[2] ?? DEFAULT_OUTDIR);
  const written = await writeBundle(outdir);
  console.log(`wrote ${path.relative(process.cwd(), written) || written} (+ .map)`);
}
