/**
 * The connection's events for the page: `DFSignals.on(event, handler)` and,
 * for plain HTML pages, the same events as `dfws:<event>` CustomEvents on
 * `document` (their `detail` is the handler's argument).
 */
import type { Logger } from "./log";

/** `DFSignals.state`: connecting (or waiting to retry), open, or closed for good (or not started). */
export type ConnectionState = "connecting" | "open" | "closed";

/** Why the server refused the window, from its close code; null for an ordinary close. */
export type CloseReason = "session" | "key" | "window" | "refusals" | "sockets" | null;

export interface OpenDetail {
  /** False for the first open of this window's socket, true after a reconnect. */
  reconnect: boolean;
}

export interface CloseDetail {
  /** The websocket close code (1006: the connection dropped). */
  code: number;
  /** The server refused the window: 4001 "session", 4003 "key", 4004 "window", 4008 "refusals", 4029 "sockets". */
  reason: CloseReason;
  /** The client reconnects by itself; false: closed for good, the page should reload. */
  willRetry: boolean;
  /** When it retries: in how many ms. */
  delayMs: number | undefined;
}

export interface RecoveredDetail {
  /** Frames the server replayed (they ran before this event). */
  frames: number;
  /** Tags of the topics that lost frames that could not be replayed (see `resync`). */
  resync: string[];
}

export interface ResyncDetail {
  /** Tags of the topics that lost frames (opaque names, the keys of each frame's `"o"`). */
  topics: string[];
}

export interface ClientEventMap {
  open: OpenDetail;
  close: CloseDetail;
  recovered: RecoveredDetail;
  resync: ResyncDetail;
}

export type ClientEvent = keyof ClientEventMap;
export type ClientEventHandler<E extends ClientEvent> = (detail: ClientEventMap[E]) => void;

export const CLIENT_EVENTS: readonly ClientEvent[] = ["open", "close", "recovered", "resync"];

/** Prefix of the CustomEvents dispatched on `document`. */
export const DOM_EVENT_PREFIX = "dfws:";

export class ClientEvents {
  private readonly handlers = new Map<ClientEvent, Set<ClientEventHandler<never>>>();

  constructor(private readonly log: Logger) {}

  on<E extends ClientEvent>(event: E, handler: ClientEventHandler<E>): void {
    this.check(event, handler);
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as ClientEventHandler<never>);
  }

  /** Remove `handler`, or every handler, of `event`. */
  off<E extends ClientEvent>(event: E, handler?: ClientEventHandler<E>): void {
    if (handler === undefined) {
      this.handlers.delete(event);
    } else {
      this.handlers.get(event)?.delete(handler as ClientEventHandler<never>);
    }
  }

  /** Run the handlers of `event`, then dispatch `dfws:<event>` on the document. */
  emit<E extends ClientEvent>(event: E, detail: ClientEventMap[E]): void {
    for (const handler of [...(this.handlers.get(event) ?? [])]) {
      try {
        (handler as ClientEventHandler<E>)(detail);
      } catch (err) {
        this.log.error(`handler of the '${event}' event failed:`, err);
      }
    }
    const doc = globalThis.document;
    const Custom = globalThis.CustomEvent;
    if (doc !== undefined && Custom !== undefined) {
      // dispatchEvent reports a listener's exception itself and goes on with the others.
      doc.dispatchEvent(new Custom(DOM_EVENT_PREFIX + event, { detail }));
    }
  }

  private check(event: unknown, handler: unknown): void {
    if (!CLIENT_EVENTS.includes(event as ClientEvent)) {
      throw new TypeError(`unknown dfws event ${String(event)}: one of ${CLIENT_EVENTS.join(", ")}`);
    }
    if (typeof handler !== "function") {
      throw new TypeError(`the handler of the '${String(event)}' event must be a function`);
    }
  }
}
