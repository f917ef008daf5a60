import { DFSignalError } from "./errors";
import type { ErrorInfo, ServerFrame } from "./frames";
import type { Logger } from "./log";
import type { DFSignalsOptions } from "./options";

/** What `callOpts.onProgress` receives for each progress frame. */
export interface CallProgress {
  fraction: number | undefined;
  message: string | undefined;
  handler: string | undefined;
}

export interface CallSetup {
  signal: string;
  /** Local handlers ran: a refusal by the server then resolves with []. */
  ranLocally: boolean;
  /** Fixed timeout of this call (ms); otherwise the default, then the server's. */
  timeoutMs?: number | undefined;
  onProgress?: ((progress: CallProgress) => void) | undefined;
  /**
   * Only the newest call with this key counts: starting this call supersedes
   * the pending call that holds the key (see `CallBook.supersede`).
   */
  latest?: string | undefined;
}

/** `DFSignalError.type` of a call superseded by a newer call with the same `latest` key. */
export const SUPERSEDED = "superseded";

export type CallReply = Extract<ServerFrame, { callId: string }>;

/** Larger delays overflow setTimeout's 32-bit counter and fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

interface PendingCall {
  readonly id: string;
  readonly setup: CallSetup;
  /** Server handlers that accepted the call; null until the ack arrives. */
  handlers: string[] | null;
  /** The ack's queue of each handler, named when the call times out. */
  queues: Record<string, { queue: string; consumer: boolean | null }>;
  readonly results: Map<string, unknown>;
  /** Replies received before the ack, replayed in order once it arrives. */
  readonly early: CallReply[];
  timer: ReturnType<typeof setTimeout> | undefined;
  timerMs: number;
  resolve(results: unknown[]): void;
  reject(error: DFSignalError): void;
}

/** Where a handler that did not answer waits: its queue, and whether a worker consumes it. */
function queueNote(where: { queue: string; consumer: boolean | null } | undefined): string {
  if (where === undefined) return "";
  const seen =
    where.consumer === null
      ? "unknown whether a worker consumes it"
      : where.consumer
        ? "a worker consumes it"
        : "no worker consumes it: start one with -Q " + where.queue;
  return ` (queue '${where.queue}', ${seen})`;
}

/**
 * The promises of calls waiting for their server handlers. A call resolves
 * with the results in the order of the ack's handlers, or rejects on the
 * first error or on timeout; anything about a settled call is ignored, and
 * `onSettled` lets the client withdraw its frame if it is still unsent.
 *
 * A call started with a `latest` key supersedes the pending call that holds
 * the same key: that one rejects at once (type "superseded"), so its later
 * results, errors and progress are ignored like those of any settled call.
 * However the replies interleave, only the newest call of a key is answered.
 */
export class CallBook {
  private readonly calls = new Map<string, PendingCall>();
  /** `latest` key -> id of the pending call that holds it. */
  private readonly latest = new Map<string, string>();

  constructor(
    private readonly options: DFSignalsOptions,
    private readonly log: Logger,
    /** Told the id of each call once it settled, before its promise is: e.g. to unsend it. */
    private readonly onSettled: (id: string) => void = () => undefined,
  ) {}

  /** Number of calls still waiting. */
  get pending(): number {
    return this.calls.size;
  }

  /**
   * Track the call `id`; its timer starts now, whether or not it was sent.
   * With `setup.latest`, the pending call holding that key is superseded first.
   */
  start(id: string, setup: CallSetup): Promise<unknown[]> {
    if (setup.latest !== undefined) this.supersede(setup.latest, id);
    const promise = new Promise<unknown[]>((resolve, reject) => {
      const call: PendingCall = {
        id,
        setup,
        handlers: null,
        queues: {},
        results: new Map(),
        early: [],
        timer: undefined,
        timerMs: 0,
        resolve,
        reject,
      };
      this.calls.set(id, call);
      this.arm(call, setup.timeoutMs ?? this.options.callTimeoutMs);
    });
    if (setup.latest !== undefined) this.latest.set(setup.latest, id);
    return promise;
  }

  /**
   * The call `newerId` replaces the pending call holding the `latest` key
   * `key`, if any: that call rejects now with a DFSignalError of type
   * "superseded", and whatever the server still sends about it is ignored.
   * Also for a newer call that never reaches the book (not sent at all).
   */
  supersede(key: string, newerId: string): void {
    const olderId = this.latest.get(key);
    if (olderId === undefined) return;
    this.latest.delete(key);
    const older = this.calls.get(olderId);
    if (!older) return;
    const message = `call ${olderId} of dfws signal '${older.setup.signal}' was superseded by call ${newerId} (latest: ${key})`;
    this.log.debug(message);
    this.fail(older, { type: SUPERSEDED, message }, undefined);
  }

  /** Apply a server reply to the call it names. */
  handle(frame: CallReply): void {
    const call = this.calls.get(frame.callId);
    if (!call) {
      this.log.debug(`ignored ${frame.kind} for unknown or settled call ${frame.callId}`);
      return;
    }
    if (frame.kind === "ack") {
      this.acknowledge(call, frame);
    } else if (call.handlers === null) {
      if (frame.kind === "error" && frame.handler === undefined) {
        // A failure of the call as a whole before any ack: a refusal.
        this.refuse(call, frame.error);
      } else {
        call.early.push(frame);
      }
    } else {
      this.apply(call, call.handlers, frame);
    }
  }

  private acknowledge(call: PendingCall, ack: Extract<CallReply, { kind: "ack" }>): void {
    if (call.handlers !== null) {
      this.log.debug(`ignored a second ack for call ${call.id}`);
      return;
    }
    if (ack.handlers.length === 0) {
      if (ack.error) {
        this.refuse(call, ack.error);
      } else {
        this.settle(call, () => call.resolve([]));
      }
      return;
    }
    const handlers = [...new Set(ack.handlers)];
    call.handlers = handlers;
    call.queues = ack.queues;
    if (call.setup.timeoutMs === undefined && ack.timeoutS !== undefined) {
      this.arm(call, ack.timeoutS * 1000);
    }
    for (const frame of call.early.splice(0)) {
      if (!this.calls.has(call.id)) return;
      this.apply(call, handlers, frame);
    }
  }

  private apply(call: PendingCall, handlers: string[], frame: CallReply): void {
    if (frame.kind === "ack") return;
    let handler = frame.handler;
    if (handler === undefined && frame.kind !== "error" && handlers.length === 1) {
      // A lone handler may answer without naming itself.
      handler = handlers[0];
    }
    if (frame.kind === "error" && handler === undefined) {
      this.fail(call, frame.error, undefined);
      return;
    }
    if (handler === undefined || !handlers.includes(handler)) {
      this.log.debug(`ignored ${frame.kind} of unlisted handler ${String(handler)} for call ${call.id}`);
      return;
    }
    switch (frame.kind) {
      case "result":
        if (call.results.has(handler)) {
          this.log.debug(`ignored duplicate result of ${handler} for call ${call.id}`);
          return;
        }
        call.results.set(handler, frame.result);
        if (call.results.size === handlers.length) {
          this.settle(call, () => call.resolve(handlers.map((h) => call.results.get(h))));
        }
        return;
      case "error":
        this.fail(call, frame.error, handler);
        return;
      case "progress":
        this.progress(call, { fraction: frame.fraction, message: frame.message, handler });
        return;
    }
  }

  private progress(call: PendingCall, progress: CallProgress): void {
    const onProgress = call.setup.onProgress;
    if (!onProgress) return;
    try {
      onProgress(progress);
    } catch (err) {
      this.log.error(`progress callback of dfws signal '${call.setup.signal}' failed:`, err);
    }
  }

  /** The server accepted no handler for the call. */
  private refuse(call: PendingCall, error: ErrorInfo): void {
    if (call.setup.ranLocally) {
      // A JS-only signal (html.content, ...) is legitimately unknown server-side.
      this.log.debug(
        `server refused dfws signal '${call.setup.signal}' (${error.type}: ${error.message}); local handlers ran`,
      );
      this.settle(call, () => call.resolve([]));
    } else {
      this.fail(call, error, undefined);
    }
  }

  private fail(call: PendingCall, error: ErrorInfo, handler: string | undefined): void {
    this.settle(call, () => call.reject(new DFSignalError(error, call.id, handler)));
  }

  /** (Re)start the timer of a call; 0 or Infinity means no timeout. */
  private arm(call: PendingCall, ms: number): void {
    clearTimeout(call.timer);
    call.timer = undefined;
    call.timerMs = ms;
    if (Number.isFinite(ms) && ms > 0) {
      call.timer = setTimeout(() => this.expire(call), Math.min(ms, MAX_TIMER_MS));
    }
  }

  private expire(call: PendingCall): void {
    const { signal } = call.setup;
    let message: string;
    if (call.handlers === null) {
      message = `no ack from the server for dfws signal '${signal}' within ${call.timerMs} ms`;
    } else {
      const missing = call.handlers.filter((h) => !call.results.has(h));
      message =
        `handlers of dfws signal '${signal}' did not answer within ${call.timerMs} ms: ` +
        missing.map((h) => h + queueNote(call.queues[h])).join(", ");
    }
    this.fail(call, { type: "timeout", message }, undefined);
  }

  private settle(call: PendingCall, outcome: () => void): void {
    clearTimeout(call.timer);
    this.calls.delete(call.id);
    const key = call.setup.latest;
    if (key !== undefined && this.latest.get(key) === call.id) this.latest.delete(key);
    try {
      this.onSettled(call.id);
    } finally {
      outcome();
    }
  }
}
