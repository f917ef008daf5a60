/**
 * The wire format: what the browser sends and what the server may answer.
 * The frame shapes, the heartbeat and the error types come from
 * `wire.generated.ts` (generated from the server's Python); server frames are
 * untrusted JSON, decoded here once into typed shapes.
 */
import type {
  Ack,
  AckFrame,
  CallFrame,
  ErrorBody,
  ErrorFrame,
  Progress,
  Positions,
  ProgressFrame,
  Recovered,
  RecoveredFrame,
  ResultFrame,
  ServerErrorType,
  SignalFrame,
} from "./wire.generated";

export * from "./wire.generated";

export type Opts = Record<string, unknown>;

/** Browser -> server: run the server handlers of `signal`; the client always sends a call id. */
export type OutgoingCall = Required<CallFrame>;

/** An error as the client reports it: one the server sent, or one of the client's own. */
export interface ErrorInfo {
  /** A `ServerErrorType`, or a client-side one ("timeout", "not_serializable", "superseded", ...). */
  type: ServerErrorType | (string & {});
  message: string;
  argument?: string;
}

export type ServerFrame =
  /** Run the local handlers of a signal sent to this window. */
  | { kind: "signal"; signal: string; opts: Opts; signalId: string | undefined }
  /** Which server handlers accepted a call (none, with `error`, if refused). */
  | {
      kind: "ack";
      callId: string;
      handlers: string[];
      timeoutS: number | undefined;
      error: ErrorInfo | undefined;
      /** By handler: its queue, and whether a worker was seen consuming it (null: unknown). */
      queues: Record<string, { queue: string; consumer: boolean | null }>;
    }
  | { kind: "result"; callId: string; handler: string | undefined; result: unknown }
  /** A handler failed; without `handler`, the whole call failed. */
  | { kind: "error"; callId: string; handler: string | undefined; error: ErrorInfo }
  | {
      kind: "progress";
      callId: string;
      handler: string | undefined;
      fraction: number | undefined;
      message: string | undefined;
    }
  /** The server could not read one of our frames and has no call to blame. */
  | { kind: "frame_error"; error: ErrorInfo }
  /**
   * The server replayed `frames` frames this window missed while disconnected;
   * the topics of `resync` (their tags) lost frames that cannot be replayed.
   */
  | { kind: "recovered"; frames: number; resync: string[] };

/** A text frame from the server: what it says, and the positions (`"o"`) it carries, if any. */
export interface ServerMessage {
  frame: ServerFrame | string;
  /** `{"<topic tag>": "<epoch>.<offset>"}` of a frame relayed from the window's topics. */
  positions: Positions | undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Untrusted JSON read through the keys of a wire type: a key renamed in Python fails to compile. */
type Untrusted<T> = { [K in keyof T]?: unknown };
type AnyServerFrame = SignalFrame & AckFrame & ResultFrame & ErrorFrame & ProgressFrame & RecoveredFrame;

/** Decode a JSON text frame; a string result explains why it was not understood. */
export function decodeServerFrame(text: string): ServerFrame | string {
  return decodeServerMessage(text).frame;
}

/** Decode a JSON text frame and its positions (kept even when the frame is not understood). */
export function decodeServerMessage(text: string): ServerMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { frame: "not JSON", positions: undefined };
  }
  if (!isRecord(raw)) {
    return { frame: "not a JSON object", positions: undefined };
  }
  return { frame: decodeObject(raw), positions: decodePositions(raw.o) };
}

/** The `"o"` member: topic tag -> "<epoch>.<offset>"; anything else in it is left out. */
function decodePositions(raw: unknown): Positions | undefined {
  if (!isRecord(raw)) return undefined;
  const positions: Positions = {};
  let any = false;
  for (const [tag, position] of Object.entries(raw)) {
    if (TAG.test(tag) && typeof position === "string" && POSITION.test(position)) {
      positions[tag] = position;
      any = true;
    }
  }
  return any ? positions : undefined;
}

/** A topic's name in `"o"`: opaque to the client (12 hex digits today), kept short. */
const TAG = /^[0-9A-Za-z_-]{1,32}$/;

/** What the server accepts back in `?dfwspos=` (`dfws_web.recovery.POSITION`). */
const POSITION = /^[0-9a-f]{1,16}\.[0-9]{1,15}$/;

function decodeObject(raw: Untrusted<AnyServerFrame>): ServerFrame | string {
  const callId = raw.call_id;
  const isReply = "ack" in raw || "result" in raw || "error" in raw || "progress" in raw;
  if (typeof callId === "string" && isReply) {
    return decodeReply(raw, callId);
  }
  if (typeof raw.signal === "string") {
    return {
      kind: "signal",
      signal: raw.signal,
      opts: isRecord(raw.opts) ? raw.opts : {},
      signalId: idString(raw.signal_id),
    };
  }
  if ("error" in raw) {
    return { kind: "frame_error", error: decodeError(raw.error) };
  }
  if (isRecord(raw.recovered)) {
    const { frames, resync }: Untrusted<Recovered> = raw.recovered;
    return {
      kind: "recovered",
      frames: typeof frames === "number" && Number.isInteger(frames) && frames >= 0 ? frames : 0,
      resync: Array.isArray(resync) ? resync.filter((t): t is string => typeof t === "string") : [],
    };
  }
  return "neither a signal, a call reply, an error nor a recovery report";
}

function decodeReply(raw: Untrusted<AnyServerFrame>, callId: string): ServerFrame | string {
  const handler = typeof raw.handler === "string" ? raw.handler : undefined;
  if (isRecord(raw.ack)) {
    const ack: Untrusted<Ack> = raw.ack;
    const handlers = Array.isArray(ack.handlers)
      ? ack.handlers.filter((h): h is string => typeof h === "string")
      : [];
    const timeout = ack.timeout;
    const queues: Record<string, { queue: string; consumer: boolean | null }> = {};
    if (isRecord(ack.queues)) {
      for (const [name, value] of Object.entries(ack.queues)) {
        if (isRecord(value) && typeof value.queue === "string") {
          const consumer = typeof value.consumer === "boolean" ? value.consumer : null;
          queues[name] = { queue: value.queue, consumer };
        }
      }
    }
    return {
      kind: "ack",
      callId,
      handlers,
      timeoutS: typeof timeout === "number" && timeout > 0 ? timeout : undefined,
      error: "error" in raw ? decodeError(raw.error) : undefined,
      queues,
    };
  }
  if ("error" in raw) {
    return { kind: "error", callId, handler, error: decodeError(raw.error) };
  }
  if ("result" in raw) {
    return { kind: "result", callId, handler, result: raw.result };
  }
  if (isRecord(raw.progress)) {
    const { fraction, message }: Untrusted<Progress> = raw.progress;
    return {
      kind: "progress",
      callId,
      handler,
      fraction: typeof fraction === "number" && Number.isFinite(fraction) ? fraction : undefined,
      message: typeof message === "string" ? message : undefined,
    };
  }
  return "call reply without a valid ack or progress";
}

function decodeError(raw: unknown): ErrorInfo {
  const obj: Untrusted<ErrorBody> = isRecord(raw) ? raw : {};
  const info: ErrorInfo = {
    type: typeof obj.type === "string" && obj.type ? obj.type : "error",
    message: typeof obj.message === "string" ? obj.message : "",
  };
  if (typeof obj.argument === "string") {
    info.argument = obj.argument;
  }
  return info;
}

function idString(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return undefined;
}
