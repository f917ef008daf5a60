import type { CloseDetail, CloseReason, ConnectionState } from "./events";
import { CloseCode, HEARTBEAT, REFUSAL_CLOSE_CODES } from "./frames";
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

/** What the connection tells its owner, besides the text frames. */
export interface ConnectionHooks {
  /** The URL of each attempt, from the URL given to `open()` (e.g. with the positions). */
  urlFor?(url: string): string;
  /** The socket opened; `reconnect` is false for the first open after `open()`. */
  opened?(reconnect: boolean): void;
  /** The socket closed (not called for `close()` itself). */
  closed?(detail: CloseDetail): void;
}

/** The refusals a retry cannot fix with the same key: the page must reload. */
const FINAL_CLOSE: ReadonlyMap<number, CloseReason> = new Map<number, CloseReason>([
  [CloseCode.SESSION_ENDED, "session"],
  [CloseCode.FORGED_KEY, "key"],
  [CloseCode.UNKNOWN_WINDOW, "window"],
]);

/** Refusals that may pass later: retried at the longest delay. */
const RETRIED_REFUSAL: ReadonlyMap<number, CloseReason> = new Map<number, CloseReason>([
  [CloseCode.TOO_MANY_REFUSALS, "refusals"],
  [CloseCode.TOO_MANY_SOCKETS, "sockets"],
]);

/**
 * One websocket to the server, kept alive: a heartbeat while open, frames
 * buffered while closed, and reconnection with exponential backoff and full
 * jitter after any close, until `close()` is called or the server refuses
 * the window for good (4001, 4003, 4004: the session ended, the key is not
 * this session's, the window is unknown — only a new page fixes that).
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
  private currentState: ConnectionState = "closed";
  /** The socket opened at least once since `open()`. */
  private wasOpen = false;
  /** Why the server refused the window for good; null while not refused. */
  private refusedFor: CloseReason = null;

  constructor(
    private readonly options: DFSignalsOptions,
    private readonly log: Logger,
    /** Receives each text frame except heartbeat echoes. */
    private readonly onText: (text: string) => void,
    private readonly hooks: ConnectionHooks = {},
  ) {}

  /** connecting (dialing, or waiting to retry), open, or closed (not started, closed, refused). */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** Why the server refused this window for good ("session", "key", "window"), or null. */
  get refused(): CloseReason {
    return this.refusedFor;
  }

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
    this.wasOpen = false;
    this.refusedFor = null;
    this.dial();
  }

  /** Close the socket for good: no reconnection until the next `open()`. */
  close(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopHeartbeat();
    this.currentState = "closed";
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
    if (this.url === null) return;
    const url = this.hooks.urlFor ? this.hooks.urlFor(this.url) : this.url;
    const Impl = this.socketImpl ?? (globalThis.WebSocket as SocketConstructor | undefined);
    if (Impl === undefined) {
      this.log.warn("this browser has no WebSocket: dfws signals stay local");
      this.currentState = "closed";
      return;
    }
    let socket: SocketLike;
    try {
      socket = new Impl(url);
    } catch (err) {
      this.log.error(`cannot open websocket ${url}:`, err);
      this.currentState = "closed";
      return;
    }
    this.currentState = "connecting";
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
    this.currentState = "open";
    const reconnect = this.wasOpen;
    this.wasOpen = true;
    this.startHeartbeat();
    for (const { text, id } of this.outbox.splice(0)) {
      this.send(text, id);
    }
    this.hooks.opened?.(reconnect);
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
    const { code } = event;
    const final = FINAL_CLOSE.get(code);
    if (final !== undefined) {
      this.log.warn(
        `server refused the websocket (code ${code}: ${event.reason || final});` +
          " not reconnecting: the page must be loaded again",
      );
      this.currentState = "closed";
      this.refusedFor = final;
      this.hooks.closed?.({ code, reason: final, willRetry: false, delayMs: undefined });
      return;
    }
    const { reconnectBaseMs: base, reconnectCapMs: cap } = this.options;
    const reason = RETRIED_REFUSAL.get(code) ?? null;
    let delay: number;
    if (REFUSAL_CLOSE_CODES.has(code)) {
      this.log.warn(
        `server refused the websocket (code ${code}: ${event.reason || reason || "refused"});` +
          ` retrying in ${cap} ms`,
      );
      delay = cap;
    } else {
      // Full jitter: spread the windows of a restarted server over the window.
      delay = Math.random() * Math.min(cap, base * 2 ** this.attempt);
      this.attempt += 1;
    }
    this.log.debug(`websocket closed (code ${code}); reconnecting in ${Math.round(delay)} ms`);
    this.currentState = "connecting";
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.dial();
    }, delay);
    this.hooks.closed?.({ code, reason, willRetry: true, delayMs: delay });
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
