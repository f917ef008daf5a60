import { beforeEach, describe, expect, it, vi } from "vitest";
import { createClient } from "../src/client";
import { DFSignalError } from "../src/errors";
import { FakeSocket, connectedClient, flushPromises, stateOf, takeConsole } from "./helpers";

beforeEach(() => {
  vi.useFakeTimers();
});

describe("local handlers", () => {
  it("runs every local handler synchronously when called", () => {
    const { client } = connectedClient();
    const seen: string[] = [];
    client.api.connect("a.b", (opts) => seen.push(`one:${String(opts.x)}`));
    client.api.connect("a.b", (opts) => seen.push(`two:${String(opts.x)}`));
    void client.api.call("a.b", { x: 1 });
    expect(seen).toEqual(["one:1", "two:1"]);
  });

  it("logs a throwing handler and still runs the others", () => {
    const { client } = connectedClient();
    const second = vi.fn();
    client.api.connect("a.b", () => {
      throw new Error("broken");
    });
    client.api.connect("a.b", second);
    void client.api.call("a.b");
    expect(second).toHaveBeenCalled();
    const [logged] = takeConsole("error");
    expect(String(logged?.[1])).toMatch(/'a.b' failed/);
    expect(logged?.[2]).toBeInstanceOf(Error);
  });

  it("disconnects one handler or all handlers of a signal", () => {
    const { client } = connectedClient();
    const one = vi.fn();
    const two = vi.fn();
    client.api.connect("a.b", one);
    client.api.connect("a.b", two);
    client.api.disconnect("a.b", one);
    void client.api.call("a.b");
    client.api.disconnect("a.b");
    void client.api.call("a.b");
    expect(one).not.toHaveBeenCalled();
    expect(two).toHaveBeenCalledTimes(1);
  });
});

describe("signals from the server", () => {
  it("runs the local handlers of a server signal and sends nothing back", () => {
    const { client, socket } = connectedClient();
    const handler = vi.fn();
    client.api.connect("shop.updated", handler);
    socket.receive({ signal: "shop.updated", opts: { n: 3 }, signal_id: "s1" });
    expect(handler).toHaveBeenCalledWith({ n: 3 });
    expect(socket.sent).toEqual([]);
  });

  it("runs a signal delivered twice with the same signal_id only once", () => {
    const { client, socket } = connectedClient();
    const handler = vi.fn();
    client.api.connect("shop.updated", handler);
    socket.receive({ signal: "shop.updated", opts: {}, signal_id: "s1" });
    socket.receive({ signal: "shop.updated", opts: {}, signal_id: "s1" });
    socket.receive({ signal: "shop.updated", opts: {}, signal_id: "s2" });
    expect(handler).toHaveBeenCalledTimes(2);
  });

  it("forgets signal ids past the last thousand", () => {
    const { client, socket } = connectedClient();
    const handler = vi.fn();
    client.api.connect("x.y", handler);
    for (let i = 0; i <= 1000; i += 1) socket.receive({ signal: "x.y", opts: {}, signal_id: `s${i}` });
    socket.receive({ signal: "x.y", opts: {}, signal_id: "s0" });
    socket.receive({ signal: "x.y", opts: {}, signal_id: "s1000" });
    expect(handler).toHaveBeenCalledTimes(1002);
  });

  it("warns about a frame-level error from the server", () => {
    const { socket } = connectedClient();
    socket.receive({ error: { type: "bad_frame", message: "opts must be an object" } });
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/rejected a frame \(bad_frame\): opts must be an object/);
  });

  it("warns about a frame that is not JSON", () => {
    const { socket } = connectedClient();
    socket.receive("<html>");
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/not JSON/);
  });
});

describe("calls", () => {
  it("resolves with the server handlers' results", async () => {
    const { client, socket } = connectedClient();
    const promise = client.api.call("shop.total", { cart: 1 });
    const call_id = socket.lastCallId();
    socket.receive({ call_id, ack: { handlers: ["shop.total.1", "shop.total.2"], timeout: 30 } });
    socket.receive({ call_id, handler: "shop.total.2", result: "two" });
    socket.receive({ call_id, handler: "shop.total.1", result: { one: 1 } });
    await expect(promise).resolves.toEqual([{ one: 1 }, "two"]);
  });

  it("rejects with a DFSignalError carrying the failing argument", async () => {
    const { client, socket } = connectedClient();
    const promise = client.api.call("shop.order", { email: "x" });
    const call_id = socket.lastCallId();
    socket.receive({ call_id, ack: { handlers: ["shop.order.1"], timeout: 30 } });
    socket.receive({
      call_id,
      handler: "shop.order.1",
      error: { type: "invalid_argument", message: "not an email", argument: "email" },
    });
    const err = await promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(client.api.DFSignalError);
    expect(err).toMatchObject({ type: "invalid_argument", argument: "email", handler: "shop.order.1", callId: call_id });
  });

  it("keeps a call pending across a reconnection and resolves it afterwards", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const { client, socket } = connectedClient();
    const promise = client.api.call("slow.job");
    const call_id = socket.lastCallId();
    socket.receive({ call_id, ack: { handlers: ["slow.job.1"], timeout: 300 } });
    socket.drop();
    vi.advanceTimersByTime(500);
    FakeSocket.latest().open();
    expect(await stateOf(promise)).toBe("pending");
    FakeSocket.latest().receive({ call_id, handler: "slow.job.1", result: "done" });
    await expect(promise).resolves.toEqual(["done"]);
  });

  it("starts the timer of a buffered call when call() is invoked", async () => {
    const { client, socket } = connectedClient(false);
    const promise = client.api.call("a.b", {}, { timeout: 1000 });
    vi.advanceTimersByTime(900);
    socket.open();
    expect(socket.frames()).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(await promise.catch((e: DFSignalError) => e.type)).toBe("timeout");
  });

  it("never sends a call that timed out while the socket was connecting", async () => {
    const { client, socket } = connectedClient(false);
    const expired = client.api.call("a.expired", {}, { timeout: 1000 });
    const waiting = client.api.call("a.waiting", {}, { timeout: 5000 });
    vi.advanceTimersByTime(1000);
    expect(await expired.catch((e: DFSignalError) => e.type)).toBe("timeout");
    socket.open();
    expect(socket.frames().map((f) => f.signal)).toEqual(["a.waiting"]);
    expect(await stateOf(waiting)).toBe("pending");
  });

  it("never re-sends after reconnecting a call that timed out while disconnected", async () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const { client, socket } = connectedClient();
    socket.drop();
    const promise = client.api.call("shop.order", { id: 1 }, { timeout: 200 });
    vi.advanceTimersByTime(200);
    expect(await promise.catch((e: DFSignalError) => e.type)).toBe("timeout");
    vi.advanceTimersByTime(300); // the reconnection delay (500 ms) is over
    const next = FakeSocket.latest();
    expect(next).not.toBe(socket);
    next.open();
    expect(next.frames()).toEqual([]);
  });

  it("resolves a server-refused call with [] when local handlers ran", async () => {
    const { client, socket } = connectedClient();
    client.api.connect("page.only", () => undefined);
    const promise = client.api.call("page.only");
    socket.receive({
      call_id: socket.lastCallId(),
      ack: { handlers: [] },
      error: { type: "unknown_signal", message: "unknown dfws signal 'page.only'" },
    });
    await expect(promise).resolves.toEqual([]);
  });

  it("rejects a server-refused call that had no local handler", async () => {
    const { client, socket } = connectedClient();
    const promise = client.api.call("admin.purge");
    socket.receive({
      call_id: socket.lastCallId(),
      ack: { handlers: [] },
      error: { type: "forbidden", message: "not allowed" },
    });
    await expect(promise).rejects.toMatchObject({ type: "forbidden", message: "not allowed" });
  });

  it("raises no unhandled rejection for an ignored failing call that ran local handlers", async () => {
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      const { client } = connectedClient();
      client.api.connect("page.only", () => undefined);
      void client.api.call("page.only", {}, { timeout: 10 });
      vi.advanceTimersByTime(10);
      vi.useRealTimers();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });

  it("reports progress to onProgress and to html.progress", () => {
    const { client, socket } = connectedClient();
    document.body.innerHTML = `<progress id="bar" max="10"></progress>`;
    const onProgress = vi.fn();
    void client.api.call("slow.job", {}, { onProgress, progress: "#bar" });
    const call_id = socket.lastCallId();
    socket.receive({ call_id, ack: { handlers: ["slow.job.1"] } });
    socket.receive({ call_id, handler: "slow.job.1", progress: { fraction: 0.4, message: "4 of 10" } });
    expect(onProgress).toHaveBeenCalledWith({ fraction: 0.4, message: "4 of 10", handler: "slow.job.1" });
    const bar = document.querySelector("progress");
    expect(bar?.value).toBe(4);
    expect(bar?.title).toBe("4 of 10");
  });
});

describe("without a dfwsurl cookie", () => {
  it("does not connect", () => {
    FakeSocket.instances = [];
    const client = createClient();
    expect(client.api.connectSocket(undefined, FakeSocket)).toBe(false);
    expect(FakeSocket.instances).toEqual([]);
  });

  it("connects to the cookie's URL", () => {
    document.cookie = `dfwsurl="ws%3A%2F%2Fserver%2Fws%2Fk"`;
    FakeSocket.instances = [];
    createClient().api.connectSocket(undefined, FakeSocket);
    expect(FakeSocket.latest().url).toBe("ws://server/ws/k");
  });

  it("resolves [] after running the local handlers", async () => {
    const client = createClient();
    const handler = vi.fn();
    client.api.connect("a.b", handler);
    await expect(client.api.call("a.b", { q: 1 })).resolves.toEqual([]);
    expect(handler).toHaveBeenCalledWith({ q: 1 });
  });

  it("rejects with not_connected when no local handler ran", async () => {
    const client = createClient();
    await expect(client.api.call("a.b")).rejects.toMatchObject({ name: "DFSignalError", type: "not_connected" });
  });
});

describe("debug logging", () => {
  it("is silent by default and logs with console.debug once enabled", async () => {
    const { client, socket } = connectedClient();
    socket.receive({ signal: "nobody.listens", opts: {} });
    expect(takeConsole("debug")).toEqual([]);
    client.api.debug = true;
    expect(client.api.debug).toBe(true);
    socket.receive({ signal: "nobody.listens", opts: {} });
    expect(takeConsole("debug")[0]?.join(" ")).toMatch(/no local handler for dfws signal 'nobody.listens'/);
    await flushPromises();
  });
});

describe("options", () => {
  it("have typed defaults and refuse unknown keys", () => {
    const { options } = createClient().api;
    expect({ ...options }).toEqual({
      heartbeatMs: 30000,
      callTimeoutMs: 30000,
      reconnectBaseMs: 500,
      reconnectCapMs: 30000,
      bindInsertedContent: false,
    });
    expect(() => {
      (options as unknown as Record<string, number>).callTimeout = 5;
    }).toThrow(TypeError);
  });
});

describe("window key for AJAX", () => {
  it("reads the signed key from the socket URL and builds fetch headers", () => {
    FakeSocket.instances = [];
    const client = createClient();
    expect(client.api.windowKey).toBeNull();
    expect(client.api.ajaxHeaders()).toEqual({ "X-Requested-With": "XMLHttpRequest" });
    client.api.connectSocket("ws://server/ws/?dfwskey=abc%3Asig", FakeSocket);
    expect(client.api.windowKey).toBe("abc:sig");
    expect(client.api.ajaxHeaders()).toEqual({
      "X-Requested-With": "XMLHttpRequest",
      "X-Dfws-Key": "abc:sig",
    });
  });
});
