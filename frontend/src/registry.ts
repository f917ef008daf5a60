import type { Logger } from "./log";
import type { Opts } from "./frames";

export type SignalHandler = (opts: Opts) => unknown;

/** The JavaScript handlers of each dfws signal in this window. */
export class LocalHandlers {
  private readonly handlers = new Map<string, SignalHandler[]>();

  constructor(private readonly log: Logger) {}

  connect(name: string, fn: SignalHandler): void {
    if (typeof name !== "string" || !name) {
      throw new TypeError(`dfws signal name must be a non-empty string, got ${String(name)}`);
    }
    if (typeof fn !== "function") {
      throw new TypeError(`handler of dfws signal '${name}' must be a function`);
    }
    const list = this.handlers.get(name);
    if (list) {
      list.push(fn);
    } else {
      this.handlers.set(name, [fn]);
    }
  }

  /** Remove `fn` from `name`, or every handler of `name` when `fn` is omitted. */
  disconnect(name: string, fn?: SignalHandler): void {
    if (fn === undefined) {
      this.handlers.delete(name);
      return;
    }
    const list = this.handlers.get(name);
    if (!list) return;
    const remaining = list.filter((h) => h !== fn);
    if (remaining.length) {
      this.handlers.set(name, remaining);
    } else {
      this.handlers.delete(name);
    }
  }

  /**
   * Run every handler of `name` with `opts` and return how many ran.
   * A throwing handler is reported and does not stop the others.
   */
  run(name: string, opts: Opts): number {
    // Copy: a handler may connect or disconnect handlers while we iterate.
    const list = [...(this.handlers.get(name) ?? [])];
    for (const fn of list) {
      try {
        fn(opts);
      } catch (err) {
        this.log.error(`handler of dfws signal '${name}' failed:`, err);
      }
    }
    return list.length;
  }
}
