import { vi } from "vitest";
import { createClient, type Client } from "../src/client";
import type { SocketLike } from "../src/connection";
import { HEARTBEAT } from "../src/frames";

/** An in-memory WebSocket: the test plays the server. */
export class FakeSocket implements SocketLike {
  static instances: FakeSocket[] = [];
  static latest(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }

  readyState = 0;
  readonly sent: string[] = [];
  closedByClient: number | undefined;
  onopen: ((event: Event) => unknown) | null = null;
  onmessage: ((event: MessageEvent) => unknown) | null = null;
  onclose: ((event: CloseEvent) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("InvalidStateError: socket not open");
    this.sent.push(data);
  }

  close(code?: number): void {
    this.readyState = 3;
    this.closedByClient = code;
  }

  /** The server accepts the connection. */
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event("open"));
  }

  /** The server sends a frame (an object is sent as JSON). */
  receive(frame: unknown): void {
    const data = typeof frame === "string" ? frame : JSON.stringify(frame);
    this.onmessage?.(new MessageEvent("message", { data }));
  }

  /** The connection drops or the server closes it. */
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close", { code, reason }));
  }

  /** Parsed frames sent by the client, heartbeats left out. */
  frames(): Record<string, unknown>[] {
    return this.sent.filter((text) => text !== HEARTBEAT).map((text) => JSON.parse(text));
  }

  lastCallId(): string {
    const frame = this.frames().at(-1);
    if (!frame || typeof frame.call_id !== "string") throw new Error("no call was sent");
    return frame.call_id;
  }
}

export const SOCKET_URL = "ws://testserver/ws/abc";

/** A fresh client whose socket is opened (unless `open` is false). */
export function connectedClient(open = true): { client: Client; socket: FakeSocket } {
  FakeSocket.instances = [];
  const client = createClient();
  client.api.connectSocket(SOCKET_URL, FakeSocket);
  const socket = FakeSocket.latest();
  if (open) socket.open();
  return { client, socket };
}

/** The arguments of every console[level] call so far, which are then forgotten. */
export function takeConsole(level: "debug" | "warn" | "error"): unknown[][] {
  const spy = vi.mocked(console[level]);
  const calls = spy.mock.calls.map((args) => [...args]);
  spy.mockClear();
  return calls;
}

/** Let pending promise callbacks run. */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

/** Whether a promise has settled yet, without waiting for it. */
export async function stateOf(promise: Promise<unknown>): Promise<"pending" | "fulfilled" | "rejected"> {
  let state: "pending" | "fulfilled" | "rejected" = "pending";
  promise.then(
    () => (state = "fulfilled"),
    () => (state = "rejected"),
  );
  await flushPromises();
  return state;
}
