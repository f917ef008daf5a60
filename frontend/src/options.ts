/** Tunable timings and policies of the client, exposed as `DFSignals.options`. */
export interface DFSignalsOptions {
  /** Interval between two `--heartbeat--` frames while connected (ms). */
  heartbeatMs: number;
  /** How long a call waits for the server's ack before it fails (ms). */
  callTimeoutMs: number;
  /** First reconnection delay; doubles at each failed attempt (ms). */
  reconnectBaseMs: number;
  /** Upper bound of a reconnection delay (ms). */
  reconnectCapMs: number;
  /**
   * Bind the `data-df-signal` attributes of what html.* signals write into
   * the page (`html.content`, `html.append`, ..., `html.add_attribute`).
   * Off by default: HTML that reaches a page through a signal then cannot
   * call signals. Read each time content is scanned.
   */
  bindInsertedContent: boolean;
}

export function defaultOptions(): DFSignalsOptions {
  // Sealed so that a typo (`callTimeout = 5`) cannot silently add a key.
  return Object.seal({
    heartbeatMs: 30_000,
    callTimeoutMs: 30_000,
    reconnectBaseMs: 500,
    reconnectCapMs: 30_000,
    bindInsertedContent: false,
  });
}
