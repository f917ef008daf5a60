import { beforeEach, describe, expect, it, vi } from "vitest";
import { Connection } from "../src/connection";
import { Logger } from "../src/log";
import { defaultOptions } from "../src/options";
import { CloseCode } from "../src/wire.generated";
import { FakeSocket, SOCKET_URL, connectedClient, takeConsole } from "./helpers";

beforeEach(() => {
  vi.useFakeTimers();
});

describe("sending", () => {
  it("sends a call as a signal/opts/call_id frame", () => {
    const { client, socket } = connectedClient();
    void client.api.call("shop.cart.add", { id: 42 });
    const [frame] = socket.frames();
    expect(frame).toEqual({ signal: "shop.cart.add", opts: { id: 42 }, call_id: expect.any(String) });
  });

  it("gives every call its own id", () => {
    const { client, socket } = connectedClient();
    void client.api.call("a.b");
    void client.api.call("a.b");
    const [first, second] = socket.frames();
    expect(first?.call_id).not.toBe(second?.call_id);
  });

  it("buffers calls while connecting and flushes them in order on open", () => {
    const { client, socket } = connectedClient(false);
    void client.api.call("a.first");
    void client.api.call("a.second");
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.frames().map((f) => f.signal)).toEqual(["a.first", "a.second"]);
  });

  it("withdraws the buffered frames of an id, and only those", () => {
    const connection = new Connection(defaultOptions(), new Logger(), () => undefined);
    FakeSocket.instances = [];
    connection.open(SOCKET_URL, FakeSocket);
    connection.send("one", "c1");
    connection.send("two", "c2");
    connection.send("three");
    expect(connection.withdraw("c1")).toBe(1);
    expect(connection.withdraw("c1")).toBe(0);
    expect(connection.buffered).toBe(2);
    FakeSocket.latest().open();
    expect(FakeSocket.latest().sent).toEqual(["two", "three"]);
    expect(connection.withdraw("c2")).toBe(0); // sent: too late to withdraw
    connection.close();
  });

  it("sends a heartbeat every heartbeatMs while open and ignores its echo", () => {
    const { client, socket } = connectedClient();
    client.api.options.heartbeatMs = 1000;
    socket.drop(1001);
    vi.advanceTimersByTime(500);
    const next = FakeSocket.latest();
    next.open();
    vi.advanceTimersByTime(2500);
    expect(next.sent).toEqual(["--heartbeat--", "--heartbeat--"]);
    next.receive("--heartbeat--");
    expect(takeConsole("warn")).toEqual([]);
  });
});

describe("reconnection", () => {
  it("reconnects after a close with exponential backoff and full jitter", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const { socket } = connectedClient();
    socket.drop();
    // attempt 0: 0.5 * min(30000, 500 * 2^0)
    vi.advanceTimersByTime(249);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(FakeSocket.latest().url).toBe(SOCKET_URL);
    FakeSocket.latest().drop(); // never opened: attempt 1 waits up to 1000 ms
    vi.advanceTimersByTime(499);
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it("caps the backoff and resets it after a successful open", () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const { socket } = connectedClient();
    socket.drop();
    for (const delay of [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]) {
      const count = FakeSocket.instances.length;
      vi.advanceTimersByTime(delay - 1);
      expect(FakeSocket.instances).toHaveLength(count);
      vi.advanceTimersByTime(1);
      expect(FakeSocket.instances).toHaveLength(count + 1);
      FakeSocket.latest().drop();
    }
    vi.advanceTimersByTime(30000);
    FakeSocket.latest().open();
    FakeSocket.latest().drop();
    const count = FakeSocket.instances.length;
    vi.advanceTimersByTime(500);
    expect(FakeSocket.instances).toHaveLength(count + 1);
  });

  it("waits the cap delay and warns when the server refuses the socket for a while (4029, 4008)", () => {
    vi.spyOn(Math, "random").mockReturnValue(0); // an ordinary drop would reconnect at once
    const { socket } = connectedClient();
    socket.drop(CloseCode.TOO_MANY_SOCKETS, "too many sockets");
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/refused the websocket \(code 4029: too many sockets\); retrying in 30000 ms/);
    vi.advanceTimersByTime(29_999);
    expect(FakeSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.latest().drop(CloseCode.TOO_MANY_REFUSALS);
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/code 4008: refusals\); retrying in 30000 ms/);
    vi.advanceTimersByTime(29_999);
    expect(FakeSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it.each([
    [CloseCode.SESSION_ENDED, "session"],
    [CloseCode.FORGED_KEY, "key"],
    [CloseCode.UNKNOWN_WINDOW, "window"],
  ])("stops for good when the server refuses the window with %i (%s): the page must reload", (code, reason) => {
    const { client, socket } = connectedClient();
    socket.drop(code);
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(
      new RegExp(`refused the websocket \\(code ${code}: ${reason}\\); not reconnecting`),
    );
    vi.advanceTimersByTime(10 * 60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(client.api.state).toBe("closed");
  });

  it("reconnects again after connectSocket once refused", () => {
    const { client, socket } = connectedClient();
    socket.drop(CloseCode.FORGED_KEY, "forged key");
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/code 4003: forged key\); not reconnecting/);
    client.api.connectSocket("ws://testserver/ws/new", FakeSocket);
    expect(client.api.state).toBe("connecting");
    FakeSocket.latest().open();
    expect(client.api.state).toBe("open");
  });

  it("treats 4002, which the server never sends, as an ordinary drop", () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const { socket } = connectedClient();
    socket.drop(4002);
    vi.advanceTimersByTime(0);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(takeConsole("warn")).toEqual([]);
  });

  it("flushes calls made while disconnected once reconnected", () => {
    vi.spyOn(Math, "random").mockReturnValue(1);
    const { client, socket } = connectedClient();
    socket.drop();
    void client.api.call("a.while_down", { n: 1 });
    vi.advanceTimersByTime(500);
    const next = FakeSocket.latest();
    expect(next).not.toBe(socket);
    next.open();
    expect(next.frames()).toEqual([{ signal: "a.while_down", opts: { n: 1 }, call_id: expect.any(String) }]);
  });

  it("closes the previous socket when connectSocket is called again", () => {
    const { client, socket } = connectedClient();
    client.api.connectSocket("ws://other/ws/", FakeSocket);
    expect(socket.closedByClient).toBe(1000);
    expect(FakeSocket.latest().url).toBe("ws://other/ws/");
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});
