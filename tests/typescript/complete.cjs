// The editor's completions with the generated declarations (tests/test_typescript.py):
//   node complete.cjs <typescript module> <dir holding signals.d.ts> <page text>...
// prints, for each page text, the sorted names the language service offers at its end.
const fs = require("node:fs");
const path = require("node:path");
const ts = require(process.argv[2]);
const dir = process.argv[3];
const declarations = path.join(dir, "signals.d.ts");
const page = path.join(dir, "page.ts");
const files = { [declarations]: fs.readFileSync(declarations, "utf8"), [page]: "" };
const host = {
  getScriptFileNames: () => Object.keys(files),
  getScriptVersion: () => String(files[page].length),
  getScriptSnapshot: (name) => {
    const text = files[name] ?? (ts.sys.fileExists(name) ? ts.sys.readFile(name) : undefined);
    return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
  },
  getCurrentDirectory: () => dir,
  getCompilationSettings: () => ({
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    strict: true,
    types: [],
    skipDefaultLibCheck: true,
  }),
  getDefaultLibFileName: (options) => ts.getDefaultLibFilePath(options),
  fileExists: (name) => name in files || ts.sys.fileExists(name),
  readFile: (name) => files[name] ?? ts.sys.readFile(name),
};
const service = ts.createLanguageService(host);
const answers = process.argv.slice(4).map((text) => {
  files[page] = text;
  const completions = service.getCompletionsAtPosition(page, text.length, {});
  return (completions?.entries ?? []).map((entry) => entry.name).filter(Boolean).sort();
});
console.log(JSON.stringify(answers));
