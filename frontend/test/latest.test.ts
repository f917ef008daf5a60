// Only the newest call counts (issue 16): an older call answered after a newer
// one must not be applied. The server is played by hand so that the replies
// arrive out of order: the newer call is answered first, the older one after.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Bindings, ERROR_EVENT, PROGRESS_EVENT, RESULT_EVENT, parseBindings } from "../src/bindings";
import { CallBook, SUPERSEDED, type CallReply, type CallSetup } from "../src/calls";
import type { Client } from "../src/client";
import { DFSignalError } from "../src/errors";
import { SignalWrites } from "../src/html";
import { Logger } from "../src/log";
import { defaultOptions } from "../src/options";
import { FakeSocket, connectedClient, flushPromises, stateOf, takeConsole } from "./helpers";

async function rejection(promise: Promise<unknown>): Promise<DFSignalError> {
  const err = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DFSignalError);
  return err as DFSignalError;
}

describe("CallBook: a latest key", () => {
  let book: CallBook;

  beforeEach(() => {
    vi.useFakeTimers();
    book = new CallBook(defaultOptions(), new Logger());
  });

  const start = (id: string, setup: Partial<CallSetup> = {}): Promise<unknown[]> =>
    book.start(id, { signal: "form.check", ranLocally: false, ...setup });
  const ack = (callId: string): CallReply => ({
    kind: "ack",
    callId,
    handlers: ["t.check"],
    timeoutS: 30,
    error: undefined,
    queues: {},
  });
  const result = (callId: string, value: unknown): CallReply => ({ kind: "result", callId, handler: "t.check", result: value });
  const progress = (callId: string, fraction: number): CallReply => ({
    kind: "progress",
    callId,
    handler: "t.check",
    fraction,
    message: `${fraction}`,
  });

  it("applies only the newest call when the older one is answered last", async () => {
    const older = start("c1", { latest: "k" });
    const newer = start("c2", { latest: "k" });
    book.handle(ack("c1"));
    book.handle(ack("c2"));
    book.handle(result("c2", "valid"));
    book.handle(result("c1", "invalid")); // late: dropped
    await expect(newer).resolves.toEqual(["valid"]);
    const err = await rejection(older);
    expect(err).toMatchObject({ type: SUPERSEDED, callId: "c1", handler: undefined });
    expect(err.message).toMatch(/call c1 of dfws signal 'form.check' was superseded by call c2/);
    expect(book.pending).toBe(0);
  });

  it("rejects the older call as soon as the newer one starts, not when it is answered", async () => {
    const older = start("c1", { latest: "k" });
    book.handle(ack("c1"));
    expect(await stateOf(older)).toBe("pending");
    void start("c2", { latest: "k" });
    expect(await stateOf(older)).toBe("rejected");
    expect(book.pending).toBe(1);
  });

  it("drops the progress of a superseded call", async () => {
    const seen: string[] = [];
    const older = start("c1", { latest: "k", onProgress: (p) => seen.push(`old ${p.fraction}`) });
    book.handle(ack("c1"));
    book.handle(progress("c1", 0.25));
    const newer = start("c2", { latest: "k", onProgress: (p) => seen.push(`new ${p.fraction}`) });
    book.handle(ack("c2"));
    book.handle(progress("c1", 0.5));
    book.handle(progress("c2", 0.5));
    book.handle(progress("c1", 0.75));
    book.handle(result("c2", "done"));
    expect(seen).toEqual(["old 0.25", "new 0.5"]);
    await rejection(older);
    await expect(newer).resolves.toEqual(["done"]);
  });

  it("drops the error of a superseded call too", async () => {
    const older = start("c1", { latest: "k" });
    const newer = start("c2", { latest: "k" });
    book.handle(ack("c2"));
    book.handle(result("c2", "valid"));
    book.handle({ kind: "error", callId: "c1", handler: "t.check", error: { type: "handler_exception", message: "late" } });
    expect((await rejection(older)).type).toBe(SUPERSEDED);
    await expect(newer).resolves.toEqual(["valid"]);
  });

  it("leaves calls without a key, or with another key, alone", async () => {
    const plain = start("c1");
    const other = start("c2", { latest: "other" });
    const first = start("c3", { latest: "k" });
    void start("c4");
    void start("c5", { latest: "k" });
    expect(await stateOf(plain)).toBe("pending");
    expect(await stateOf(other)).toBe("pending");
    expect(await stateOf(first)).toBe("rejected");
    expect(book.pending).toBe(4);
  });

  it("does not touch a call that already settled, and frees the key once the newest settles", async () => {
    const first = start("c1", { latest: "k" });
    book.handle(ack("c1"));
    book.handle(result("c1", "one"));
    await expect(first).resolves.toEqual(["one"]);
    const second = start("c2", { latest: "k" });
    book.handle(ack("c2"));
    book.handle(result("c2", "two"));
    await expect(second).resolves.toEqual(["two"]);
    const third = start("c3", { latest: "k" });
    expect(await stateOf(third)).toBe("pending");
  });

  it("clears the timer of a superseded call", async () => {
    const older = start("c1", { latest: "k", timeoutMs: 1000 });
    void start("c2", { latest: "k", timeoutMs: 0 });
    expect((await rejection(older)).type).toBe(SUPERSEDED);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tells onSettled about the superseded call (the client then withdraws it if unsent)", () => {
    const settled: string[] = [];
    book = new CallBook(defaultOptions(), new Logger(), (id) => settled.push(id));
    start("c1", { latest: "k" }).catch(() => undefined);
    void start("c2", { latest: "k" });
    expect(settled).toEqual(["c1"]);
  });
});

describe("DFSignals.call(..., {latest})", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  it("resolves the newest call and rejects the older one with type superseded, whatever the order of the replies", async () => {
    const { client, socket } = connectedClient();
    const older = client.api.call("form.check", { age: "-1" }, { latest: "profile" });
    const olderId = socket.lastCallId();
    const newer = client.api.call("form.check", { age: "36" }, { latest: "profile" });
    const newerId = socket.lastCallId();
    socket.receive({ call_id: olderId, ack: { handlers: ["t.check"], timeout: 30 } });
    socket.receive({ call_id: newerId, ack: { handlers: ["t.check"], timeout: 30 } });
    socket.receive({ call_id: newerId, handler: "t.check", result: "valid" });
    socket.receive({ call_id: olderId, handler: "t.check", result: "invalid" });
    await expect(newer).resolves.toEqual(["valid"]);
    const err = await older.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(client.api.DFSignalError);
    expect(err).toMatchObject({ type: "superseded", callId: olderId });
    // both calls were sent: superseding drops an answer, not a call already on its way
    expect(socket.frames().map((f) => f.call_id)).toEqual([olderId, newerId]);
  });

  it("feeds onProgress and the progress element only from the newest call", () => {
    const { client, socket } = connectedClient();
    document.body.innerHTML = `<progress id="bar" max="1" value="0"></progress>`;
    const seen: unknown[] = [];
    const callOpts = { latest: "slow", progress: "#bar", onProgress: (p: { fraction?: number }) => seen.push(p.fraction) };
    client.api.call("slow.work", {}, callOpts).catch(() => undefined);
    const olderId = socket.lastCallId();
    client.api.call("slow.work", {}, callOpts).catch(() => undefined);
    const newerId = socket.lastCallId();
    socket.receive({ call_id: newerId, ack: { handlers: ["t.slow"], timeout: 30 } });
    socket.receive({ call_id: olderId, ack: { handlers: ["t.slow"], timeout: 30 } });
    socket.receive({ call_id: newerId, handler: "t.slow", progress: { fraction: 0.2, message: "new" } });
    socket.receive({ call_id: olderId, handler: "t.slow", progress: { fraction: 0.9, message: "old" } });
    expect(seen).toEqual([0.2]);
    expect(document.querySelector("progress")?.value).toBeCloseTo(0.2);
  });

  it("does not send later a superseded call still waiting for the socket", async () => {
    const { client, socket } = connectedClient(false);
    const older = client.api.call("form.check", { n: 1 }, { latest: "k" });
    const newer = client.api.call("form.check", { n: 2 }, { latest: "k" });
    expect((await rejection(older)).type).toBe(SUPERSEDED);
    socket.open();
    expect(socket.frames().map((f) => f.opts)).toEqual([{ n: 2 }]);
    socket.receive({ call_id: socket.lastCallId(), ack: { handlers: ["t.check"], timeout: 30 } });
    socket.receive({ call_id: socket.lastCallId(), handler: "t.check", result: 2 });
    await expect(newer).resolves.toEqual([2]);
  });

  it("supersedes the older call even when the newer one cannot be sent", async () => {
    const { client } = connectedClient();
    const older = client.api.call("form.check", {}, { latest: "k" });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const newer = client.api.call("form.check", circular, { latest: "k" });
    expect((await rejection(older)).type).toBe(SUPERSEDED);
    expect((await rejection(newer)).type).toBe("not_serializable");
  });

  it("refuses a latest key that is not a string", () => {
    const { client } = connectedClient();
    expect(() => client.api.call("a.b", {}, { latest: 1 as unknown as string })).toThrow(TypeError);
  });
});

describe("bindings", () => {
  let client: Client;
  let socket: FakeSocket;
  let bindings: Bindings;

  /** Let the deferred calls (setTimeout 0) run. */
  const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
  const attr = (value: unknown): string => `data-df-signal='${JSON.stringify(value)}'`;

  beforeEach(() => {
    ({ client, socket } = connectedClient());
    bindings = new Bindings(
      (name, opts, callOpts) => client.api.call(name, opts, callOpts),
      new Logger(),
      defaultOptions(),
      new SignalWrites(),
    );
  });

  afterEach(() => {
    bindings.unwatch();
  });

  /** The page, in a container removed after each test with the listeners put on it. */
  function watch(html: string): HTMLElement {
    document.body.innerHTML = `<div id="page">${html}</div>`;
    bindings.watch(document);
    return document.querySelector<HTMLElement>("#page") as HTMLElement;
  }

  /** Type `value` into `#field` and let the binding call the server; returns the call id. */
  async function typeValue(value: string, type = "input"): Promise<string> {
    const field = document.querySelector<HTMLInputElement>("#field");
    if (!field) throw new Error("no #field");
    field.value = value;
    field.dispatchEvent(new Event(type, { bubbles: true }));
    await tick();
    return socket.lastCallId();
  }

  function answer(callId: string, result: unknown): void {
    socket.receive({ call_id: callId, ack: { handlers: ["t.check"], timeout: 30 } });
    socket.receive({ call_id: callId, handler: "t.check", result });
  }

  /** What the page applies: each dfws:result event writes its result into #verdict. */
  function applied(page: HTMLElement): unknown[] {
    const seen: unknown[] = [];
    page.addEventListener(RESULT_EVENT, (event) => {
      const { results } = (event as CustomEvent<{ results: unknown[] }>).detail;
      seen.push(results[0]);
      const verdict = document.querySelector("#verdict");
      if (verdict) verdict.textContent = String(results[0]);
    });
    return seen;
  }

  it("applies only the newest result of an input binding when an older call is answered last", async () => {
    const seen = applied(watch(`<form><input id="field" name="age" ${attr([{ name: "form.check", on: "input", value: "age" }])}></form>
      <p id="verdict"></p>`));
    const older = await typeValue("-1");
    const newer = await typeValue("36");
    answer(newer, "valid: 36");
    answer(older, "invalid: -1");
    await flushPromises();
    expect(seen).toEqual(["valid: 36"]);
    expect(document.querySelector("#verdict")?.textContent).toBe("valid: 36");
    expect(takeConsole("warn")).toEqual([]); // a superseded call is not a failure
  });

  it("does the same for a change binding of a whole form", async () => {
    const seen = applied(watch(`<form id="profile" ${attr([{ name: "form.check", on: "change", form: "form_data" }])}>
      <input id="field" name="age"></form><p id="verdict"></p>`));
    const older = await typeValue("-1", "change");
    const newer = await typeValue("36", "change");
    answer(newer, "valid");
    answer(older, "invalid");
    await flushPromises();
    expect(seen).toEqual(["valid"]);
  });

  it("does not apply an older answer that arrives first either: a newer call had started", async () => {
    const seen = applied(watch(`<input id="field" ${attr([{ name: "form.check", on: "input", value: "v" }])}><p id="verdict"></p>`));
    const older = await typeValue("a");
    const newer = await typeValue("ab");
    answer(older, "old");
    answer(newer, "new");
    await flushPromises();
    expect(seen).toEqual(["new"]);
  });

  it("applies every result of a click binding, in the order they arrive", async () => {
    const seen = applied(watch(`<button id="field" ${attr([{ name: "cart.add" }])}></button>`));
    const first = await typeValue("", "click");
    const second = await typeValue("", "click");
    answer(second, "second");
    answer(first, "first");
    await flushPromises();
    expect(seen).toEqual(["second", "first"]);
  });

  it("applies only the newest result of a click binding that says latest", async () => {
    const seen = applied(watch(`<button id="field" ${attr([{ name: "cart.add", latest: true }])}></button>`));
    const older = await typeValue("", "click");
    const newer = await typeValue("", "click");
    answer(newer, "newer");
    answer(older, "older");
    await flushPromises();
    expect(seen).toEqual(["newer"]);
  });

  it("applies every result of an input binding with latest false", async () => {
    const seen = applied(watch(`<input id="field" ${attr([{ name: "log.keys", on: "input", value: "v", latest: false }])}>`));
    const older = await typeValue("a");
    const newer = await typeValue("ab");
    answer(newer, "ab");
    answer(older, "a");
    await flushPromises();
    expect(seen).toEqual(["ab", "a"]);
  });

  it("gives each binding its own key: two fields do not supersede each other", async () => {
    const seen = applied(watch(`<input id="field" ${attr([{ name: "form.field", on: "input", value: "v" }])}>
      <input id="other" ${attr([{ name: "form.field", on: "input", value: "v" }])}>`));
    const one = await typeValue("1");
    (document.querySelector("#other") as HTMLInputElement).dispatchEvent(new Event("input", { bubbles: true }));
    await tick();
    const two = socket.lastCallId();
    answer(two, "other");
    answer(one, "field");
    await flushPromises();
    expect(seen).toEqual(["other", "field"]);
  });

  it("shares a named key between bindings and DFSignals.call()", async () => {
    const seen = applied(watch(`<input id="field" ${attr([{ name: "form.check", on: "input", value: "v", latest: "profile" }])}>`));
    const fromBinding = await typeValue("typed");
    const fromScript = client.api.call("form.check", { v: "script" }, { latest: "profile" });
    const scriptId = socket.lastCallId();
    answer(scriptId, "script");
    answer(fromBinding, "typed");
    await flushPromises();
    await expect(fromScript).resolves.toEqual(["script"]);
    expect(seen).toEqual([]); // the binding's call was superseded by the script's
  });

  it("dispatches progress of the newest call only, and errors but not supersessions", async () => {
    const page = watch(`<input id="field" ${attr([{ name: "form.check", on: "input", value: "v" }])}>`);
    const progress: unknown[] = [];
    const errors: unknown[] = [];
    page.addEventListener(PROGRESS_EVENT, (e) => progress.push((e as CustomEvent<{ message: string }>).detail.message));
    page.addEventListener(ERROR_EVENT, (e) => errors.push((e as CustomEvent<{ error: DFSignalError }>).detail.error.type));
    const older = await typeValue("a");
    const newer = await typeValue("ab");
    socket.receive({ call_id: older, ack: { handlers: ["t.check"], timeout: 30 } });
    socket.receive({ call_id: newer, ack: { handlers: ["t.check"], timeout: 30 } });
    socket.receive({ call_id: older, handler: "t.check", progress: { fraction: 0.5, message: "old" } });
    socket.receive({ call_id: newer, handler: "t.check", progress: { fraction: 0.5, message: "new" } });
    socket.receive({ call_id: older, handler: "t.check", error: { type: "handler_exception", message: "old" } });
    socket.receive({ call_id: newer, handler: "t.check", error: { type: "handler_exception", message: "new" } });
    await flushPromises();
    expect(progress).toEqual(["new"]);
    expect(errors).toEqual(["handler_exception"]);
    expect(takeConsole("warn")).toHaveLength(1);
  });

  it("accepts latest as a boolean or a non-empty string only", () => {
    const element = document.createElement("input");
    element.setAttribute(
      "data-df-signal",
      JSON.stringify([
        { name: "a", latest: true },
        { name: "b", latest: "key" },
        { name: "c", latest: 1 },
        { name: "d", latest: "" },
      ]),
    );
    expect(parseBindings(element, new Logger()).map((b) => b.name)).toEqual(["a", "b"]);
    expect(takeConsole("error")).toHaveLength(2);
  });
});
