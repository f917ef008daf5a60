// Calls of the sample's signals as its pages make them: they must compile against the
// declarations `python sample_project/manage.py dfws_typescript` generates.
export async function sampleCalls(input: HTMLInputElement, button: HTMLButtonElement): Promise<void> {
  const work = await DFSignals.call(
    "demo.slow.work",
    { steps: input.value, delay: 0.5 },
    { timeout: 120000, progress: "#slow-progress", onProgress: ({ message }) => console.log(message) },
  );
  const first: Record<string, unknown> | undefined = work[0];
  await DFSignals.call("demo.slow.work");
  await DFSignals.call("demo.countdown.start", { seconds: input.value });
  const hello: string[] = await DFSignals.call("demo.hello", { sent: performance.now() });
  await DFSignals.call("demo.articles.comment", { article: 1, text: input.value });
  await DFSignals.call("demo.topics.send", { target: "session", text: "hi" });
  await DFSignals.call("demo.forms.check", { form_data: [{ name: "age", value: "3" }] });
  await DFSignals.call("demo.html.run", { name: "html.text" });
  // a name the server does not declare (local handlers, html.*) stays untyped
  await DFSignals.call("html.text", { selector: "#x", content: "y" });
  await DFSignals.call(button.dataset["signal"] ?? "", {});
  DFSignals.connect("demo.message", (opts) => console.log(opts["text"]));
  // a declared signal's local handlers get its arguments
  DFSignals.connect("demo.slow.work", (opts) => console.log(opts.steps, opts.delay));
  DFSignals.disconnect("demo.slow.work");
  // what a data-df-signal binding dispatches on its element, and the connection's events
  button.addEventListener("dfws:progress", (event) => console.log(event.detail.fraction));
  button.addEventListener("dfws:result", (event) => console.log(event.detail.results.length));
  button.addEventListener("dfws:error", (event) => console.log(event.detail.signal));
  document.addEventListener("dfws:close", (event) => console.log(event.detail.willRetry));
  DFSignals.on("close", (detail) => console.log(detail.willRetry, detail.reason));
  try {
    await window.DFSignals.call("demo.topics.broadcast", { text: "hi" }, { latest: "b" });
  } catch (err) {
    if (err instanceof DFSignals.DFSignalError) console.log(err.type, err.argument);
  }
  console.log(first, hello);
}
