/**
 * The wire format: what the browser sends and what the server may answer.
 * Server frames are untrusted JSON, decoded here once into typed shapes.
 */

export type Opts = Record<string, unknown>;

/** Text frame sent periodically by the browser and echoed by the server. */
export const HEARTBEAT = "--heartbeat--";

/** Browser -> server: run the server handlers of `signal`. */
export interface CallFrame {
  signal: string;
  opts: Opts;
  call_id: string;
}

export interface ErrorInfo {
  type: string;
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
  | { kind: "frame_error"; error: ErrorInfo };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Decode a JSON text frame; a string result explains why it was not understood. */
export function decodeServerFrame(text: string): ServerFrame | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (!isRecord(raw)) {
    return "not a JSON object";
  }
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
  return "neither a signal, a call reply nor an error";
}

function decodeReply(raw: Record<string, unknown>, callId: string): ServerFrame | string {
  const handler = typeof raw.handler === "string" ? raw.handler : undefined;
  if (isRecord(raw.ack)) {
    const handlers = Array.isArray(raw.ack.handlers)
      ? raw.ack.handlers.filter((h): h is string => typeof h === "string")
      : [];
    const timeout = raw.ack.timeout;
    return {
      kind: "ack",
      callId,
      handlers,
      timeoutS: typeof timeout === "number" && timeout > 0 ? timeout : undefined,
      error: "error" in raw ? decodeError(raw.error) : undefined,
    };
  }
  if ("error" in raw) {
    return { kind: "error", callId, handler, error: decodeError(raw.error) };
  }
  if ("result" in raw) {
    return { kind: "result", callId, handler, result: raw.result };
  }
  if (isRecord(raw.progress)) {
    const { fraction, message } = raw.progress;
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
  const obj = isRecord(raw) ? raw : {};
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
