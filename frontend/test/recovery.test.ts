// Recovery (issue 12): positions per topic sent back on reconnect, the replay, the events.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { createClient } from "../src/client";
import type { CloseDetail } from "../src/events";
import { CloseCode, POSITIONS_QUERY } from "../src/wire.generated";
import { FakeSocket, SOCKET_URL, connectedClient, stateOf, takeConsole } from "./helpers";

beforeEach(() => {
  vi.useFakeTimers();
  vi.spyOn(Math, "random").mockReturnValue(1); // the first reconnect waits reconnectBaseMs (500)
});

// topics are named by tags in "o" and ?dfwspos= (12 hex digits, opaque to the client)
const T0 = "a1b2c3d4e5f6";
const T1 = "0f1e2d3c4b5a";

const KEYED_URL = "ws://testserver/ws/?dfwskey=w1%3Asig";

/** The positions a socket's URL carries (`?dfwspos=`), or null. */
function sentPositions(socket: FakeSocket): unknown {
  const raw = new URL(socket.url).searchParams.get(POSITIONS_QUERY);
  return raw === null ? null : JSON.parse(raw);
}

/** Drop the socket and let the client reconnect; the new socket, open. */
function reconnect(socket: FakeSocket, code = 1006): FakeSocket {
  socket.drop(code);
  vi.advanceTimersByTime(500);
  const next = FakeSocket.latest();
  expect(next).not.toBe(socket);
  next.open();
  return next;
}

const signal = (n: number, o: Record<string, string>) => ({
  signal: "a.n",
  opts: { n },
  signal_id: `s${n}`,
  o,
});

describe("positions", () => {
  it("sends no positions on the first connect", () => {
    const { socket } = connectedClient();
    expect(socket.url).toBe(SOCKET_URL);
  });

  it("keeps the last position of each topic and sends them back in the URL when reconnecting", () => {
    const { socket } = connectedClient();
    socket.receive(signal(1, { [T0]: "ab12cd34.56" }));
    socket.receive(signal(2, { [T0]: "ab12cd34.57", [T1]: "ff00aa11.2" }));
    socket.receive(signal(3, { [T1]: "ff00aa11.3" }));
    socket.receive({ call_id: "x", ack: { handlers: [] } }); // the consumer's own frame: no "o"
    const next = reconnect(socket);
    expect(sentPositions(next)).toEqual({ [T0]: "ab12cd34.57", [T1]: "ff00aa11.3" });
    expect(next.url.startsWith(`${SOCKET_URL}?${POSITIONS_QUERY}=%7B%22a1b2c3d4e5f6%22%3A%22ab12cd34.57%22`)).toBe(true);
  });

  it("appends the positions after the window key, and updates them from the replay", () => {
    FakeSocket.instances = [];
    const client = createClient();
    client.api.connectSocket(KEYED_URL, FakeSocket);
    const socket = FakeSocket.latest();
    socket.open();
    socket.receive(signal(1, { [T0]: "e1.1" }));
    const second = reconnect(socket);
    expect(new URL(second.url).searchParams.get("dfwskey")).toBe("w1:sig");
    expect(sentPositions(second)).toEqual({ [T0]: "e1.1" });
    second.receive(signal(2, { [T0]: "e1.2" }));
    second.receive({ recovered: { frames: 1, resync: [] } });
    expect(sentPositions(reconnect(second))).toEqual({ [T0]: "e1.2" });
    expect(client.api.windowKey).toBe("w1:sig");
  });

  it("records positions of frames it drops: a duplicate, a frame it does not understand", () => {
    const { socket } = connectedClient();
    socket.receive(signal(1, { [T0]: "e1.1" }));
    socket.receive(signal(1, { [T0]: "e1.2" })); // relayed twice under another offset
    socket.receive({ something: "new", o: { [T0]: "e1.3" } });
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/ignored a frame from the server/);
    expect(sentPositions(reconnect(socket))).toEqual({ [T0]: "e1.3" });
  });

  it("ignores malformed positions", () => {
    const { socket } = connectedClient();
    socket.receive(signal(1, { [T0]: "e1.1" }));
    socket.receive({ ...signal(2, {}), o: { [T0]: "not a position", "x y": "e1.9", [T1]: 5 } });
    socket.receive({ ...signal(3, {}), o: ["e1.4"] });
    expect(sentPositions(reconnect(socket))).toEqual({ [T0]: "e1.1" });
  });

  it("keeps the positions for the same window and forgets them for another", () => {
    FakeSocket.instances = [];
    const client = createClient();
    client.api.connectSocket(KEYED_URL, FakeSocket);
    FakeSocket.latest().open();
    FakeSocket.latest().receive(signal(1, { [T0]: "e1.1" }));
    client.api.connectSocket(KEYED_URL, FakeSocket);
    expect(sentPositions(FakeSocket.latest())).toEqual({ [T0]: "e1.1" });
    client.api.connectSocket("ws://testserver/ws/?dfwskey=w2%3Asig", FakeSocket);
    expect(sentPositions(FakeSocket.latest())).toBeNull();
  });
});

describe("the replay", () => {
  it("runs replayed signals in order, and a signal replayed twice once", () => {
    const { client, socket } = connectedClient();
    const seen: unknown[] = [];
    client.api.connect("a.n", (opts) => seen.push(opts.n));
    socket.receive(signal(1, { [T0]: "e1.1" }));
    const next = reconnect(socket);
    for (const n of [1, 2, 3, 2]) next.receive(signal(n, { [T0]: `e1.${n}` }));
    next.receive({ recovered: { frames: 3, resync: [] } });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("resolves a pending call from its result replayed after a reconnect, once", async () => {
    const { client, socket } = connectedClient();
    const promise = client.api.call("a.work");
    const callId = socket.lastCallId();
    socket.receive({ call_id: callId, ack: { handlers: ["t.1"], timeout: 60 } });
    socket.drop();
    vi.advanceTimersByTime(500);
    expect(await stateOf(promise)).toBe("pending");
    const next = FakeSocket.latest();
    next.open();
    expect(next.frames()).toEqual([]); // sent already: not sent again
    next.receive({ call_id: callId, handler: "t.1", result: 42, o: { [T0]: "e1.7" } });
    next.receive({ call_id: callId, handler: "t.1", result: 42, o: { [T0]: "e1.7" } }); // twice
    next.receive({ recovered: { frames: 1, resync: [] } });
    await expect(promise).resolves.toEqual([42]);
  });

  it("sends a call made while disconnected after the reconnect and resolves it", async () => {
    const { client, socket } = connectedClient();
    socket.receive(signal(1, { [T0]: "e1.1" }));
    socket.drop();
    const promise = client.api.call("a.later");
    vi.advanceTimersByTime(500);
    const next = FakeSocket.latest();
    next.open();
    const callId = next.lastCallId();
    next.receive({ recovered: { frames: 0, resync: [] } });
    next.receive({ call_id: callId, ack: { handlers: ["t.1"] } });
    next.receive({ call_id: callId, handler: "t.1", result: "ok", o: { [T0]: "e1.2" } });
    await expect(promise).resolves.toEqual(["ok"]);
  });
});

describe("events", () => {
  it("fires recovered after the replay, with the frame count, as a handler and a DOM event", () => {
    const { client, socket } = connectedClient();
    const order: string[] = [];
    client.api.connect("a.n", (opts) => order.push(`signal ${String(opts.n)}`));
    client.api.on("recovered", (detail) => order.push(`recovered ${JSON.stringify(detail)}`));
    const dom = vi.fn();
    document.addEventListener("dfws:recovered", dom);
    socket.receive(signal(1, { [T0]: "e1.1" }));
    const next = reconnect(socket);
    next.receive(signal(2, { [T0]: "e1.2" }));
    next.receive({ recovered: { frames: 1, resync: [] } });
    document.removeEventListener("dfws:recovered", dom);
    expect(order).toEqual(["signal 1", "signal 2", 'recovered {"frames":1,"resync":[]}']);
    expect((dom.mock.calls[0]?.[0] as CustomEvent).detail).toEqual({ frames: 1, resync: [] });
  });

  it("fires resync with the topics that lost frames, after recovered", () => {
    const { client, socket } = connectedClient();
    const seen: string[] = [];
    client.api.on("recovered", (d) => seen.push(`recovered ${d.frames} ${d.resync.join()}`));
    client.api.on("resync", (d) => seen.push(`resync ${d.topics.join()}`));
    const dom = vi.fn();
    document.addEventListener("dfws:resync", dom);
    socket.receive(signal(1, { [T0]: "e1.1", [T1]: "e2.1" }));
    const next = reconnect(socket);
    next.receive({ recovered: { frames: 0, resync: [T1] } });
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(new RegExp(`frames of topic\\(s\\) ${T1} were lost`));
    // later, a gap the server could not fill: resync only
    next.receive({ recovered: { frames: 0, resync: [T0, T1] } });
    takeConsole("warn");
    document.removeEventListener("dfws:resync", dom);
    expect(seen).toEqual([`recovered 0 ${T1}`, `resync ${T1}`, `resync ${T0},${T1}`]);
    expect(dom.mock.calls.map(([e]) => (e as CustomEvent).detail)).toEqual([
      { topics: [T1] },
      { topics: [T0, T1] },
    ]);
  });

  it("goes connecting, open, connecting again after a drop, with open and close events", () => {
    FakeSocket.instances = [];
    const client = createClient();
    const seen: unknown[] = [];
    client.api.on("open", (d) => seen.push(["open", d, client.api.state]));
    client.api.on("close", (d) => seen.push(["close", d, client.api.state]));
    const dom: string[] = [];
    const listener = (e: Event): void => void dom.push(e.type);
    for (const name of ["dfws:open", "dfws:close"]) document.addEventListener(name, listener);
    expect(client.api.state).toBe("closed");
    client.api.connectSocket(SOCKET_URL, FakeSocket);
    expect(client.api.state).toBe("connecting");
    FakeSocket.latest().open();
    expect(client.api.state).toBe("open");
    FakeSocket.latest().drop(1006);
    expect(client.api.state).toBe("connecting");
    vi.advanceTimersByTime(500);
    FakeSocket.latest().open();
    for (const name of ["dfws:open", "dfws:close"]) document.removeEventListener(name, listener);
    expect(seen).toEqual([
      ["open", { reconnect: false }, "open"],
      ["close", { code: 1006, reason: null, willRetry: true, delayMs: 500 }, "connecting"],
      ["open", { reconnect: true }, "open"],
    ]);
    expect(dom).toEqual(["dfws:open", "dfws:close", "dfws:open"]);
  });

  it.each([
    [CloseCode.SESSION_ENDED, "session"],
    [CloseCode.FORGED_KEY, "key"],
    [CloseCode.UNKNOWN_WINDOW, "window"],
  ])("closes for good on %i: close with willRetry false and reason %s, no retry", (code, reason) => {
    const { client, socket } = connectedClient();
    const closes: CloseDetail[] = [];
    client.api.on("close", (d) => closes.push(d));
    socket.drop(code);
    takeConsole("warn");
    vi.advanceTimersByTime(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(client.api.state).toBe("closed");
    expect(closes).toEqual([{ code, reason, willRetry: false, delayMs: undefined }]);
  });

  it("keeps retrying at the longest delay on 4029 and 4008, with the reason", () => {
    const { client, socket } = connectedClient();
    const closes: CloseDetail[] = [];
    client.api.on("close", (d) => closes.push(d));
    socket.drop(CloseCode.TOO_MANY_SOCKETS);
    vi.advanceTimersByTime(30_000);
    FakeSocket.latest().drop(CloseCode.TOO_MANY_REFUSALS);
    takeConsole("warn");
    expect(client.api.state).toBe("connecting");
    expect(closes).toEqual([
      { code: 4029, reason: "sockets", willRetry: true, delayMs: 30_000 },
      { code: 4008, reason: "refusals", willRetry: true, delayMs: 30_000 },
    ]);
  });

  it("rejects a call made once the window was refused for good", async () => {
    const { client, socket } = connectedClient();
    socket.drop(CloseCode.SESSION_ENDED);
    takeConsole("warn");
    await expect(client.api.call("a.b")).rejects.toMatchObject({ type: "not_connected" });
  });

  it("removes a handler with off, or all of an event's", () => {
    const { client, socket } = connectedClient();
    const one = vi.fn();
    const two = vi.fn();
    client.api.on("close", one);
    client.api.on("close", two);
    client.api.off("close", one);
    socket.drop();
    vi.advanceTimersByTime(500);
    client.api.off("close");
    FakeSocket.latest().drop();
    expect(one).not.toHaveBeenCalled();
    expect(two).toHaveBeenCalledTimes(1);
  });

  it("refuses an unknown event and a handler that is not a function", () => {
    const { client } = connectedClient();
    expect(() => client.api.on("opened" as "open", () => undefined)).toThrow(/unknown dfws event opened/);
    expect(() => client.api.on("open", "x" as unknown as () => void)).toThrow(/must be a function/);
  });

  it("logs a throwing handler and still runs the others", () => {
    const { client, socket } = connectedClient();
    const second = vi.fn();
    client.api.on("close", () => {
      throw new Error("broken");
    });
    client.api.on("close", second);
    socket.drop();
    expect(second).toHaveBeenCalled();
    expect(String(takeConsole("error")[0]?.[1])).toMatch(/'close' event failed/);
  });
});
