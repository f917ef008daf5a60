/** `window.DFSignals`: local handlers, calls to the server and their promises. */
import { Bindings } from "./bindings";
import { CallBook, type CallProgress } from "./calls";
import { Connection, type SocketConstructor } from "./connection";
import { absoluteSocketUrl, socketUrlFromCookies } from "./cookie";
import { DFSignalError } from "./errors";
import {
  ClientEvents,
  type ClientEvent,
  type ClientEventHandler,
  type ConnectionState,
} from "./events";
import { decodeServerMessage, isRecord, type ErrorInfo, type Opts, type OutgoingCall } from "./frames";
import { HTML_SIGNALS, SignalWrites, type BuiltinContext } from "./html";
import { Logger } from "./log";
import { defaultOptions, type DFSignalsOptions } from "./options";
import { RecentIds } from "./recent";
import { PositionBook } from "./positions";
import { LocalHandlers, type SignalHandler } from "./registry";

export interface CallOptions {
  /** Fail the call after this many ms (0 or Infinity: never); default: see options. */
  timeout?: number;
  /** Called for each progress report of a server handler. */
  onProgress?: (progress: CallProgress) => void;
  /** CSS selector of `<progress>` elements updated by `html.progress`. */
  progress?: string;
  /**
   * Only the newest call with this key counts: a later call with the same key
   * supersedes this one, whose promise then rejects with a DFSignalError of
   * type "superseded" and whose results and progress are ignored from then on.
   */
  latest?: string;
}

/** The public API, installed as `window.DFSignals`. */
export interface DFSignalsApi {
  /** Run `fn(opts)` each time the dfws signal `name` is called or received. */
  connect(name: string, fn: SignalHandler): void;
  /** Remove `fn`, or every local handler, from the dfws signal `name`. */
  disconnect(name: string, fn?: SignalHandler): void;
  /**
   * Run the local handlers of `name`, then ask the server to run its own.
   * Resolves with the results of the server handlers, in the ack's order.
   */
  call(name: string, opts?: Opts, callOpts?: CallOptions): Promise<unknown[]>;
  /** (Re)connect to `url` (default: the `dfwsurl` cookie); false without a URL. */
  connectSocket(url?: string, socketImpl?: SocketConstructor): boolean;
  /**
   * This window's signed key (from its socket URL), or null before connecting.
   * AJAX requests that send it as `X-Dfws-Key` act for this window.
   */
  readonly windowKey: string | null;
  /** Headers for `fetch()` so that the view's `trigger(request, ..., to=WINDOW)` reaches this window. */
  ajaxHeaders(): Record<string, string>;
  /**
   * A new window for this page without reloading it, after the server refused
   * the current one (`close` with `willRetry: false`: the session changed in
   * another tab, the window expired). The page's URL is fetched again as an
   * AJAX request: its view binds the topics the browser's session may have
   * now, and the socket reconnects with the new key. Resolves true once that
   * socket is asked for; false when the server gave no new window (the view
   * redirected, e.g. to a login page, or failed): then reload the page.
   */
  renew(): Promise<boolean>;
  /**
   * The socket: "connecting" (dialing, or waiting to reconnect), "open", or
   * "closed" (not started, or refused for good: see the `close` event).
   */
  readonly state: ConnectionState;
  /**
   * Run `handler(detail)` on each `event`: `open`, `close` (`code`, `reason`,
   * `willRetry`, `delayMs`), `recovered` (`frames`, `resync`), `resync`
   * (`topics`). Also dispatched on `document` as `dfws:<event>` CustomEvents.
   */
  on<E extends ClientEvent>(event: E, handler: ClientEventHandler<E>): void;
  /** Remove `handler`, or every handler, of `event`. */
  off<E extends ClientEvent>(event: E, handler?: ClientEventHandler<E>): void;
  readonly options: DFSignalsOptions;
  /** Log what the client does with console.debug. */
  debug: boolean;
  readonly DFSignalError: typeof DFSignalError;
}

export interface Client {
  readonly api: DFSignalsApi;
  /** Bind `data-df-signal` elements of `doc` and connect, once the page is parsed. */
  start(doc: Document): void;
}

function randomToken(): string {
  const bytes = new Uint8Array(6);
  if (globalThis.crypto?.getRandomValues) {
    globalThis.crypto.getRandomValues(bytes);
  } else {
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = Math.floor(Math.random() * 256);
  }
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function pageBase(): string {
  return globalThis.document?.baseURI ?? globalThis.location?.href ?? "http://localhost/";
}

function cookieSocketUrl(): string | null {
  const cookies = globalThis.document?.cookie ?? "";
  return socketUrlFromCookies(cookies, pageBase());
}

const MAX_LOGGED_FRAME = 200;

/** The signed window key the server put in the socket URL (`?dfwskey=`). */
export function windowKeyOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return new URL(url).searchParams.get("dfwskey");
  } catch {
    return null;
  }
}

export function createClient(): Client {
  const log = new Logger();
  const options = defaultOptions();
  const local = new LocalHandlers(log);
  const recentSignals = new RecentIds(1000);
  const events = new ClientEvents(log);
  // The last position per topic of this window, sent back when the socket reconnects.
  const positions = new PositionBook();
  // The next recovery report is the one that follows an open (the replay), not a later gap.
  let replayReport = false;
  const connection = new Connection(options, log, receive, {
    urlFor: (url) => positions.urlWith(url),
    opened(reconnect) {
      replayReport = true;
      events.emit("open", { reconnect });
    },
    closed(detail) {
      replayReport = false;
      events.emit("close", detail);
    },
  });
  // A settled call (timed out while the socket was closed...) must not run later.
  const calls = new CallBook(options, log, (callId) => {
    if (connection.withdraw(callId) > 0) log.debug(`call ${callId} settled before it was sent: not sent`);
  });
  const idPrefix = randomToken();
  let lastId = 0;

  // Shared by the html.* signals and the bindings: what the signals wrote is not bound by default.
  const writes = new SignalWrites();
  const builtinContext: BuiltinContext = { log, writes };
  for (const [name, fn] of Object.entries(HTML_SIGNALS)) {
    local.connect(name, (opts) => fn(opts, builtinContext));
  }

  function receive(text: string): void {
    const { frame, positions: at } = decodeServerMessage(text);
    // Counted as received whatever its fate here (not understood, a duplicate...).
    positions.record(at);
    if (typeof frame === "string") {
      log.warn(`ignored a frame from the server (${frame}):`, text.slice(0, MAX_LOGGED_FRAME));
      return;
    }
    switch (frame.kind) {
      case "signal":
        if (frame.signalId !== undefined && !recentSignals.add(frame.signalId)) {
          log.debug(`ignored duplicate dfws signal '${frame.signal}' (${frame.signalId})`);
        } else if (local.run(frame.signal, frame.opts) === 0) {
          log.debug(`no local handler for dfws signal '${frame.signal}'`);
        }
        return;
      case "frame_error":
        log.warn(`the server rejected a frame (${frame.error.type}): ${frame.error.message}`);
        return;
      case "recovered":
        recovered(frame.frames, frame.resync);
        return;
      default:
        calls.handle(frame);
    }
  }

  function recovered(frames: number, resync: string[]): void {
    if (replayReport) {
      replayReport = false;
      log.debug(`the server replayed ${frames} missed frame(s)`);
      events.emit("recovered", { frames, resync: [...resync] });
    }
    if (resync.length > 0) {
      log.warn(`frames of topic(s) ${resync.join(", ")} were lost: the page should reload them`);
      events.emit("resync", { topics: [...resync] });
    }
  }

  /** A call that never reaches the server: fine if local handlers ran. */
  function unsent(
    ranLocally: boolean,
    error: ErrorInfo,
    callId: string,
    latest: string | undefined,
  ): Promise<unknown[]> {
    // Still the newest call of its key: an older one must not be answered instead.
    if (latest !== undefined) calls.supersede(latest, callId);
    log.debug(`dfws signal not sent to the server (${error.type}): ${error.message}`);
    return ranLocally ? Promise.resolve([]) : Promise.reject(new DFSignalError(error, callId));
  }

  function progressHandler(callOpts: CallOptions): ((p: CallProgress) => void) | undefined {
    const { onProgress, progress: selector } = callOpts;
    if (!onProgress && !selector) return undefined;
    return (p) => {
      if (selector) {
        local.run("html.progress", { selector, fraction: p.fraction, message: p.message });
      }
      onProgress?.(p);
    };
  }

  const api: DFSignalsApi = {
    connect(name, fn) {
      local.connect(name, fn);
    },

    disconnect(name, fn) {
      local.disconnect(name, fn);
    },

    call(name, opts = {}, callOpts = {}) {
      if (typeof name !== "string" || !name) {
        throw new TypeError(`dfws signal name must be a non-empty string, got ${String(name)}`);
      }
      if (!isRecord(opts)) {
        throw new TypeError(`options of dfws signal '${name}' must be an object`);
      }
      const { latest } = callOpts;
      if (latest !== undefined && typeof latest !== "string") {
        throw new TypeError(`the latest option of dfws signal '${name}' must be a string`);
      }
      const ranLocally = local.run(name, opts) > 0;
      lastId += 1;
      const callId = `${idPrefix}-${lastId.toString(36)}`;
      let text: string;
      try {
        const frame: OutgoingCall = { signal: name, opts, call_id: callId };
        text = JSON.stringify(frame);
      } catch (err) {
        return unsent(ranLocally, { type: "not_serializable", message: String(err) }, callId, latest);
      }
      if (connection.url === null && cookieSocketUrl() === null) {
        // Without a URL no socket will ever open: do not buffer forever.
        const message = "no websocket URL (the dfwsurl cookie is missing)";
        return unsent(ranLocally, { type: "not_connected", message }, callId, latest);
      }
      if (connection.refused !== null) {
        const message = `the server refused this window (${connection.refused}): reload the page`;
        return unsent(ranLocally, { type: "not_connected", message }, callId, latest);
      }
      const promise = calls.start(callId, {
        signal: name,
        ranLocally,
        timeoutMs: callOpts.timeout,
        onProgress: progressHandler(callOpts),
        latest,
      });
      connection.send(text, callId);
      if (ranLocally) {
        // Callers of JS-side signals rarely await the server: no unhandled-rejection noise.
        promise.catch((err: unknown) => log.debug(`call of '${name}' failed:`, err));
      }
      return promise;
    },

    connectSocket(url, socketImpl) {
      const target = url === undefined ? cookieSocketUrl() : absoluteSocketUrl(url, pageBase());
      if (target === null) {
        log.debug(url === undefined ? "no dfwsurl cookie: not connecting" : `invalid websocket URL ${url}`);
        return false;
      }
      if (windowKeyOf(target) !== windowKeyOf(connection.url)) {
        positions.clear(); // positions belong to a window: another key starts afresh
      }
      connection.open(target, socketImpl);
      return true;
    },

    get state() {
      return connection.state;
    },

    on(event, handler) {
      events.on(event, handler);
    },

    off(event, handler) {
      events.off(event, handler);
    },

    get windowKey() {
      return windowKeyOf(connection.url);
    },

    ajaxHeaders() {
      const headers: Record<string, string> = { "X-Requested-With": "XMLHttpRequest" };
      const key = windowKeyOf(connection.url);
      if (key !== null) headers["X-Dfws-Key"] = key;
      return headers;
    },

    async renew() {
      const page = globalThis.location?.href;
      if (page === undefined || typeof globalThis.fetch !== "function") return false;
      const oldKey = windowKeyOf(connection.url);
      let response: Response;
      try {
        // The old key goes along: the server gives a new window only to a request
        // whose session is not the one of that key's window, or whose window is gone.
        response = await globalThis.fetch(page, { credentials: "same-origin", headers: api.ajaxHeaders() });
      } catch (err) {
        log.warn("could not ask the server for a new window:", err);
        return false;
      }
      const fresh = cookieSocketUrl();
      if (!response.ok || response.redirected || fresh === null || windowKeyOf(fresh) === oldKey) {
        log.debug(`no new window for this page (HTTP ${response.status}${response.redirected ? ", redirected" : ""})`);
        return false;
      }
      log.debug("the server gave this page a new window: reconnecting");
      return api.connectSocket(fresh);
    },

    options,

    get debug() {
      return log.enabled;
    },
    set debug(on: boolean) {
      log.enabled = Boolean(on);
    },

    DFSignalError,
  };

  const bindings = new Bindings((name, opts, callOpts) => api.call(name, opts, callOpts), log, options, writes);

  return {
    api,
    start(doc) {
      bindings.watch(doc);
      if (connection.url === null) api.connectSocket();
    },
  };
}
