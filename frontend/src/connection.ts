import { HEARTBEAT, REFUSAL_CLOSE_CODES } from "./frames";
import type { Logger } from "./log";
import type { DFSignalsOptions } from "./options";

/** The part of the browser's WebSocket that the client uses (a seam for tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: Event) => unknown) | null;
  onmessage: ((event: MessageEvent) => unknown) | null;
  onclose: ((event: CloseEvent) => unknown) | null;
  onerror: ((event: Event) => unknown) | null;
}

export type SocketConstructor = new (url: string) => SocketLike;

const OPEN = 1;

/** A frame waiting for the socket; `id` names what it carries (a call id) so that it can be withdrawn. */
interface Buffered {
  readonly text: string;
  readonly id: string | undefined;
}

/**
 * One websocket to the server, kept alive: a heartbeat while open, frames
 * buffered while closed, and reconnection with exponential backoff and full
 * jitter after any close, until `close()` is called.
 */
export class Connection {
  /** Where the socket connects; null until `open()`. */
  url: string | null = null;
  private socketImpl: SocketConstructor | undefined;
  private socket: SocketLike | null = null;
  private readonly outbox: Buffered[] = [];
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly options: DFSignalsOptions,
    private readonly log: Logger,
    /** Receives each text frame except heartbeat echoes. */
    private readonly onText: (text: string) => void,
  ) {}

  get isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === OPEN;
  }

  /** Frames waiting for the socket to open. */
  get buffered(): number {
    return this.outbox.length;
  }

  /** (Re)connect to `url`, dropping any current socket but keeping the buffer. */
  open(url: string, socketImpl?: SocketConstructor): void {
    this.close();
    this.url = url;
    if (socketImpl) this.socketImpl = socketImpl;
    this.attempt = 0;
    this.dial();
  }

  /** Close the socket for good: no reconnection until the next `open()`. */
  close(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopHeartbeat();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      socket.close(1000);
    }
  }

  /**
   * Send a text frame now, or as soon as the socket is open. A frame given an
   * `id` can be withdrawn with `withdraw(id)` until then.
   */
  send(text: string, id?: string): void {
    if (this.socket !== null && this.socket.readyState === OPEN) {
      this.socket.send(text);
    } else {
      this.outbox.push({ text, id });
    }
  }

  /** Drop the frames buffered with `id` (the call settled: nothing must run it now); how many. */
  withdraw(id: string): number {
    let dropped = 0;
    for (let i = this.outbox.length - 1; i >= 0; i -= 1) {
      if (this.outbox[i]?.id === id) {
        this.outbox.splice(i, 1);
        dropped += 1;
      }
    }
    return dropped;
  }

  private dial(): void {
    const url = this.url;
    if (url === null) return;
    const Impl = this.socketImpl ?? (globalThis.WebSocket as SocketConstructor | undefined);
    if (Impl === undefined) {
      this.log.warn("this browser has no WebSocket: dfws signals stay local");
      return;
    }
    let socket: SocketLike;
    try {
      socket = new Impl(url);
    } catch (err) {
      this.log.error(`cannot open websocket ${url}:`, err);
      return;
    }
    this.log.debug(`connecting to ${url}`);
    this.socket = socket;
    socket.onopen = () => this.opened();
    socket.onmessage = (event) => this.received(event);
    socket.onclose = (event) => this.closed(event);
    socket.onerror = () => this.log.debug("websocket error");
  }

  private opened(): void {
    this.log.debug("websocket open");
    this.attempt = 0;
    this.startHeartbeat();
    for (const { text, id } of this.outbox.splice(0)) {
      this.send(text, id);
    }
  }

  private received(event: MessageEvent): void {
    if (typeof event.data !== "string") {
      this.log.debug("ignored a binary frame");
    } else if (event.data !== HEARTBEAT) {
      this.onText(event.data);
    }
  }

  private closed(event: CloseEvent): void {
    this.socket = null;
    this.stopHeartbeat();
    const { reconnectBaseMs: base, reconnectCapMs: cap } = this.options;
    let delay: number;
    if (REFUSAL_CLOSE_CODES.has(event.code)) {
      this.log.warn(
        `server refused the websocket (code ${event.code}: ${event.reason || "key or window"});` +
          ` retrying in ${cap} ms`,
      );
      delay = cap;
    } else {
      // Full jitter: spread the windows of a restarted server over the window.
      delay = Math.random() * Math.min(cap, base * 2 ** this.attempt);
      this.attempt += 1;
    }
    this.log.debug(`websocket closed (code ${event.code}); reconnecting in ${Math.round(delay)} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.dial();
    }, delay);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const every = this.options.heartbeatMs;
    if (Number.isFinite(every) && every > 0) {
      this.heartbeatTimer = setInterval(() => {
        if (this.socket !== null && this.socket.readyState === OPEN) {
          this.socket.send(HEARTBEAT);
        }
      }, every);
    }
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}
