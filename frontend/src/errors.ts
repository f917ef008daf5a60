import type { ErrorInfo } from "./frames";

/** Why a `DFSignals.call()` promise was rejected. */
export class DFSignalError extends Error {
  /** Machine-readable kind: "timeout", "forbidden", "unknown_signal", "superseded", ... */
  readonly type: string;
  /** The signal argument that failed validation, when the server names one. */
  readonly argument: string | undefined;
  /** The server handler (task name) that failed, when one did. */
  readonly handler: string | undefined;
  readonly callId: string;

  constructor(info: ErrorInfo, callId: string, handler?: string) {
    super(info.message || info.type);
    this.name = "DFSignalError";
    this.type = info.type;
    this.argument = info.argument;
    this.handler = handler;
    this.callId = callId;
  }
}
