/** Console output of the client; debug lines only when `DFSignals.debug` is set. */
export class Logger {
  enabled = false;

  debug(...args: unknown[]): void {
    if (this.enabled) {
      console.debug("[dfws]", ...args);
    }
  }

  warn(...args: unknown[]): void {
    console.warn("[dfws]", ...args);
  }

  error(...args: unknown[]): void {
    console.error("[dfws]", ...args);
  }
}
