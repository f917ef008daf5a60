import { beforeEach, describe, expect, it, vi } from "vitest";
import { CallBook, type CallReply, type CallSetup } from "../src/calls";
import { DFSignalError } from "../src/errors";
import { Logger } from "../src/log";
import { defaultOptions } from "../src/options";
import { stateOf } from "./helpers";

let book: CallBook;

beforeEach(() => {
  vi.useFakeTimers();
  book = new CallBook(defaultOptions(), new Logger());
});

function start(id = "c1", setup: Partial<CallSetup> = {}): Promise<unknown[]> {
  return book.start(id, { signal: "shop.cart", ranLocally: false, ...setup });
}

const ack = (
  handlers: string[],
  timeoutS?: number,
  callId = "c1",
  queues: Record<string, { queue: string; consumer: boolean | null }> = {},
): CallReply => ({
  kind: "ack",
  callId,
  handlers,
  timeoutS,
  error: undefined,
  queues,
});
const result = (handler: string | undefined, value: unknown, callId = "c1"): CallReply => ({
  kind: "result",
  callId,
  handler,
  result: value,
});
const failure = (handler: string | undefined, type: string, argument?: string): CallReply => ({
  kind: "error",
  callId: "c1",
  handler,
  error: { type, message: `${type}!`, ...(argument ? { argument } : {}) },
});

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

describe("resolution", () => {
  it("resolves with the results in the order of the ack's handlers", async () => {
    const promise = start();
    book.handle(ack(["t.first", "t.second"]));
    book.handle(result("t.second", 2));
    expect(await stateOf(promise)).toBe("pending");
    book.handle(result("t.first", { one: 1 }));
    await expect(promise).resolves.toEqual([{ one: 1 }, 2]);
    expect(book.pending).toBe(0);
  });

  it("resolves with an empty list when the ack lists no handler and no error", async () => {
    const promise = start();
    book.handle(ack([]));
    await expect(promise).resolves.toEqual([]);
  });

  it("applies results received before the ack once it arrives", async () => {
    const promise = start();
    book.handle(result("t.b", "B"));
    book.handle(result("t.a", "A"));
    expect(await stateOf(promise)).toBe("pending");
    book.handle(ack(["t.a", "t.b"]));
    await expect(promise).resolves.toEqual(["A", "B"]);
  });

  it("ignores a second result frame of the same handler", async () => {
    const promise = start();
    book.handle(ack(["t.a", "t.b"]));
    book.handle(result("t.a", "first"));
    book.handle(result("t.a", "again"));
    book.handle(result("t.b", "B"));
    await expect(promise).resolves.toEqual(["first", "B"]);
  });

  it("ignores results of handlers the ack did not list", async () => {
    const promise = start();
    book.handle(ack(["t.a"]));
    book.handle(result("t.other", "x"));
    expect(await stateOf(promise)).toBe("pending");
    book.handle(result("t.a", "A"));
    await expect(promise).resolves.toEqual(["A"]);
  });

  it("attributes an unnamed result to the only accepted handler", async () => {
    const promise = start();
    book.handle(ack(["t.only"]));
    book.handle(result(undefined, 7));
    await expect(promise).resolves.toEqual([7]);
  });

  it("ignores frames for a call that already settled", async () => {
    const promise = start();
    book.handle(ack(["t.a"]));
    book.handle(result("t.a", "A"));
    book.handle(failure("t.a", "late"));
    book.handle(result("t.a", "late"));
    await expect(promise).resolves.toEqual(["A"]);
  });

  it("ignores frames for a call id it never started", () => {
    book.handle(result("t.a", "A", "nobody"));
    expect(book.pending).toBe(0);
  });
});

describe("errors", () => {
  it("rejects on the first handler error, naming the handler and argument", async () => {
    const promise = start();
    book.handle(ack(["t.a", "t.b"]));
    book.handle(result("t.a", "A"));
    book.handle(failure("t.b", "invalid", "email"));
    const err = await rejection(promise);
    expect(err).toMatchObject({
      name: "DFSignalError",
      type: "invalid",
      message: "invalid!",
      argument: "email",
      handler: "t.b",
      callId: "c1",
    });
    expect(book.pending).toBe(0);
  });

  it("rejects on an error received before the ack once the ack arrives", async () => {
    const promise = start();
    book.handle(failure("t.a", "boom"));
    expect(await stateOf(promise)).toBe("pending");
    book.handle(ack(["t.a"]));
    expect((await rejection(promise)).type).toBe("boom");
  });

  it("rejects a refused call that ran no local handler with the server's error type", async () => {
    const promise = start();
    book.handle({ ...ack([]), error: { type: "unknown_signal", message: "no such signal" } } as CallReply);
    const err = await rejection(promise);
    expect([err.type, err.message, err.handler]).toEqual(["unknown_signal", "no such signal", undefined]);
  });

  it("resolves a refused call with [] when local handlers ran", async () => {
    const promise = start("c1", { ranLocally: true });
    book.handle({ ...ack([]), error: { type: "forbidden", message: "no" } } as CallReply);
    await expect(promise).resolves.toEqual([]);
  });

  it("treats an error for the whole call before any ack as a refusal", async () => {
    const promise = start();
    book.handle(failure(undefined, "too_large"));
    expect((await rejection(promise)).type).toBe("too_large");
  });
});

describe("timeouts", () => {
  it("rejects with type timeout when no ack came in options.callTimeoutMs", async () => {
    const promise = start();
    vi.advanceTimersByTime(29_999);
    expect(await stateOf(promise)).toBe("pending");
    vi.advanceTimersByTime(1);
    const err = await rejection(promise);
    expect(err.type).toBe("timeout");
    expect(err.message).toMatch(/no ack .*'shop.cart'/);
  });

  it("names the handlers that did not answer", async () => {
    const promise = start("c1", { timeoutMs: 1000 });
    book.handle(ack(["t.a", "t.b", "t.c"]));
    book.handle(result("t.b", "B"));
    vi.advanceTimersByTime(1000);
    const err = await rejection(promise);
    expect(err.type).toBe("timeout");
    expect(err.message).toMatch(/did not answer within 1000 ms: t\.a, t\.c$/);
  });

  it("says where a handler that did not answer waits: its queue, and whether a worker consumes it", async () => {
    const promise = start("c1", { timeoutMs: 1000 });
    const queues = {
      "t.a": { queue: "slow", consumer: false },
      "t.b": { queue: "celery", consumer: true },
      "t.c": { queue: "bulk", consumer: null },
    };
    book.handle(ack(["t.a", "t.b", "t.c"], undefined, "c1", queues));
    vi.advanceTimersByTime(1000);
    const err = await rejection(promise);
    expect(err.message).toContain("t.a (queue 'slow', no worker consumes it: start one with -Q slow)");
    expect(err.message).toContain("t.b (queue 'celery', a worker consumes it)");
    expect(err.message).toContain("t.c (queue 'bulk', unknown whether a worker consumes it)");
  });

  it("re-arms the timer with the server's timeout once acknowledged", async () => {
    const promise = start();
    vi.advanceTimersByTime(20_000);
    book.handle(ack(["t.a"], 60));
    vi.advanceTimersByTime(59_999);
    expect(await stateOf(promise)).toBe("pending");
    vi.advanceTimersByTime(1);
    expect((await rejection(promise)).message).toMatch(/within 60000 ms: t\.a/);
  });

  it("keeps a per-call timeout even when the server announces its own", async () => {
    const promise = start("c1", { timeoutMs: 5000 });
    book.handle(ack(["t.a"], 60));
    vi.advanceTimersByTime(5000);
    expect((await rejection(promise)).type).toBe("timeout");
  });

  it("never times out with a timeout of 0", async () => {
    const promise = start("c1", { timeoutMs: 0 });
    vi.advanceTimersByTime(10 * 3600_000);
    expect(await stateOf(promise)).toBe("pending");
  });
});

describe("onSettled", () => {
  it("names each call once it settles, however it settles, before its promise does", async () => {
    const settled: string[] = [];
    book = new CallBook(defaultOptions(), new Logger(), (id) => settled.push(id));
    const timedOut = book.start("t", { signal: "a.b", ranLocally: false, timeoutMs: 10 });
    const seenWhenRejected = timedOut.catch(() => [...settled]);
    const answered = book.start("r", { signal: "a.b", ranLocally: false });
    void book.start("p", { signal: "a.b", ranLocally: false, timeoutMs: 0 });
    book.handle(ack(["h"], undefined, "r"));
    book.handle(result("h", 1, "r"));
    vi.advanceTimersByTime(10);
    expect(await seenWhenRejected).toEqual(["r", "t"]);
    await expect(answered).resolves.toEqual([1]);
    expect(settled).toEqual(["r", "t"]); // "p" is still pending
  });
});

describe("progress", () => {
  it("reports each progress frame with its handler", () => {
    const onProgress = vi.fn();
    void start("c1", { onProgress });
    book.handle(ack(["t.a"]));
    book.handle({ kind: "progress", callId: "c1", handler: "t.a", fraction: 0.4, message: "half" });
    expect(onProgress).toHaveBeenCalledWith({ fraction: 0.4, message: "half", handler: "t.a" });
  });

  it("reports progress received before the ack once it arrives", () => {
    const onProgress = vi.fn();
    void start("c1", { onProgress });
    book.handle({ kind: "progress", callId: "c1", handler: "t.a", fraction: 0.1, message: undefined });
    expect(onProgress).not.toHaveBeenCalled();
    book.handle(ack(["t.a"]));
    expect(onProgress).toHaveBeenCalledTimes(1);
  });
});
