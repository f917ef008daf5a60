// Wrong calls of the sample's signals: tests/test_typescript.py expects the compile to fail
// on each line marked `// wrong`, and nowhere else.
void DFSignals.call("demo.articles.comment", { article: "one", text: "hi" }); // wrong
void DFSignals.call("demo.articles.comment", { article: 1 }); // wrong
void DFSignals.call("demo.articles.comment"); // wrong
void DFSignals.call("demo.hello", { sent: 1, extra: true }); // wrong
void DFSignals.call("demo.topics.send", { target: "everyone", text: "hi" }); // wrong
void DFSignals.call("demo.forms.check", { form_data: [{ name: "colour", value: "red" }] }); // wrong
void DFSignals.call("demo.slow.work", { steps: 5 }, { timeout: "soon" }); // wrong
void DFSignals.call("demo.slow.work", { steps: true }); // wrong
export const length: Promise<number[]> = DFSignals.call("demo.hello"); // wrong
DFSignals.connect("demo.slow.work", (opts) => opts.nothing); // wrong
DFSignals.connect("demo.slow.work", (opts: { steps: boolean }) => opts.steps); // wrong
document.body.addEventListener("dfws:progress", (e) => e.detail.results); // wrong
document.addEventListener("dfws:close", (e) => e.detail.fraction); // wrong
