/**
 * `data-df-signal` attributes: a JSON list of calls to make when a DOM event
 * happens on the element, e.g.
 * `[{"name": "shop.cart.add", "on": "click", "form": "form_data", "value": "qty", "opts": {"id": 42}}]`.
 * What a call answers is dispatched on the element as `dfws:result`,
 * `dfws:progress` and `dfws:error` events.
 */
import { SUPERSEDED, type CallProgress } from "./calls";
import { DFSignalError } from "./errors";
import { isRecord, type Opts } from "./frames";
import { elementValue, formOf, serializeForm } from "./forms";
import { CONTENT_ADDED, type SignalWrites } from "./html";
import type { Logger } from "./log";
import type { DFSignalsOptions } from "./options";

export const BINDING_ATTRIBUTE = "data-df-signal";

/** One entry of a `data-df-signal` list. */
export interface Binding {
  /** The dfws signal to call. */
  name: string;
  /** DOM event to listen to; the default depends on the element. */
  on?: string;
  /** Put the serialized form under this option name. */
  form?: string;
  /** Put the element's value under this option name. */
  value?: string;
  /** Fixed options of the call. */
  opts?: Opts;
  /** preventDefault(); by default, for every event but "change" and "input". */
  prevent?: boolean;
  /**
   * Only the newest call of the binding counts: each call supersedes the
   * previous one still pending (see `CallOptions.latest`), so an older answer
   * arriving late is dropped. `true`, `false`, or a key shared with other
   * bindings and `DFSignals.call(..., {latest: key})`. By default true for
   * "change" and "input" events, false for the others.
   */
  latest?: boolean | string;
}

/** What a binding passes to `DFSignals.call()` besides the signal and its options. */
export interface BindingCallOptions {
  latest?: string;
  onProgress?: (progress: CallProgress) => void;
}

export type Caller = (name: string, opts: Opts, callOpts: BindingCallOptions) => Promise<unknown[]>;

/** Dispatched on a bound element (bubbling) when its call resolves; `detail` is a `BindingResult`. */
export const RESULT_EVENT = "dfws:result";
/** Dispatched on a bound element for each progress report; `detail` is a `BindingProgress`. */
export const PROGRESS_EVENT = "dfws:progress";
/** Dispatched on a bound element when its call fails (not when superseded); `detail` is a `BindingError`. */
export const ERROR_EVENT = "dfws:error";

export interface BindingResult {
  signal: string;
  opts: Opts;
  /** The results of the server handlers, as `DFSignals.call()` resolves them. */
  results: unknown[];
}

export interface BindingProgress extends CallProgress {
  signal: string;
  opts: Opts;
}

export interface BindingError {
  signal: string;
  opts: Opts;
  error: unknown;
}

/** Events whose calls only count when they are the newest, unless the binding says otherwise. */
const LATEST_BY_DEFAULT = new Set(["change", "input"]);

const CLICKED_INPUTS = new Set(["submit", "reset", "button", "image"]);

export function defaultEvent(element: Element): string {
  if (element instanceof HTMLFormElement) return "submit";
  if (element instanceof HTMLInputElement) {
    return CLICKED_INPUTS.has(element.type) ? "click" : "change";
  }
  if (element instanceof HTMLSelectElement || element instanceof HTMLTextAreaElement) {
    return "change";
  }
  return "click";
}

/** The valid entries of an element's attribute; the invalid ones are reported. */
export function parseBindings(element: Element, log: Logger): Binding[] {
  const source = element.getAttribute(BINDING_ATTRIBUTE) ?? "";
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch {
    log.error(`${BINDING_ATTRIBUTE} is not valid JSON:`, source, element);
    return [];
  }
  const list = Array.isArray(raw) ? raw : [raw];
  const bindings: Binding[] = [];
  for (const item of list) {
    if (
      isRecord(item) &&
      typeof item.name === "string" &&
      item.name &&
      (item.on === undefined || typeof item.on === "string") &&
      (item.form === undefined || typeof item.form === "string") &&
      (item.value === undefined || typeof item.value === "string") &&
      (item.opts === undefined || isRecord(item.opts)) &&
      (item.prevent === undefined || typeof item.prevent === "boolean") &&
      (item.latest === undefined ||
        typeof item.latest === "boolean" ||
        (typeof item.latest === "string" && item.latest !== ""))
    ) {
      bindings.push(item as unknown as Binding);
    } else {
      log.error(`ignored an invalid ${BINDING_ATTRIBUTE} entry:`, item, element);
    }
  }
  return bindings;
}

/**
 * Attaches each element's bindings once, now and for content added later:
 * at the first scan of the document, for what a MutationObserver reports
 * (content and attributes added by any script) and on `DOMContentAdded`.
 *
 * Every way of finding elements goes through one rule: what the built-in
 * html.* signals wrote (the nodes they inserted, the attribute values they
 * set; see `SignalWrites`) is not bound unless `options.bindInsertedContent`
 * is true, so HTML injected through a signal cannot call signals. What the
 * page's own scripts insert, even inside such content, is bound.
 */
export class Bindings {
  private readonly bound = new WeakSet<Element>();
  /** Numbers the `latest` keys of bindings that have a key of their own. */
  private lastKey = 0;
  private observer: MutationObserver | null = null;
  private watched: Document | null = null;
  private readonly onContentAdded = (event: Event): void => {
    if (event.target instanceof Node) this.scan(event.target);
  };

  constructor(
    private readonly call: Caller,
    private readonly log: Logger,
    private readonly options: Pick<DFSignalsOptions, "bindInsertedContent">,
    private readonly writes: SignalWrites,
  ) {}

  /** Bind `root` and every element under it that carries the attribute, unless a signal wrote it. */
  scan(root: Node): void {
    if (root instanceof Element && root.hasAttribute(BINDING_ATTRIBUTE)) {
      if (this.mayBind(root, root)) this.bind(root);
    }
    if (root instanceof Element || root instanceof Document || root instanceof DocumentFragment) {
      for (const element of Array.from(root.querySelectorAll(`[${BINDING_ATTRIBUTE}]`))) {
        if (this.mayBind(element, root)) this.bind(element);
      }
    }
  }

  /** Bind the document now and keep binding what is inserted into it. */
  watch(doc: Document): void {
    if (this.watched) return;
    this.watched = doc;
    this.scan(doc);
    doc.addEventListener(CONTENT_ADDED, this.onContentAdded);
    // Also catches content inserted by other scripts than our html.* signals.
    this.observer = new MutationObserver((records) => {
      for (const record of records) {
        if (record.type === "attributes") {
          // A script gave an element the attribute: who inserted the element does not matter.
          const target = record.target;
          if (target instanceof Element && target.hasAttribute(BINDING_ATTRIBUTE) && this.mayBind(target, null)) {
            this.bind(target);
          }
        } else {
          for (const node of Array.from(record.addedNodes)) this.scan(node);
        }
      }
    });
    this.observer.observe(doc.documentElement, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: [BINDING_ATTRIBUTE],
    });
  }

  /** Stop binding new content (elements already bound keep their listeners). */
  unwatch(): void {
    this.observer?.disconnect();
    this.observer = null;
    this.watched?.removeEventListener(CONTENT_ADDED, this.onContentAdded);
    this.watched = null;
  }

  /**
   * Whether `element` may be bound: always with `bindInsertedContent`;
   * otherwise unless a signal wrote its attribute or, when it was found under
   * `root` (what was added, or what is scanned), inserted it or one of its
   * ancestors up to `root`.
   */
  private mayBind(element: Element, root: Node | null): boolean {
    if (this.options.bindInsertedContent) return true;
    const inserted = root !== null && this.writes.insertedWithin(element, root);
    if (inserted || this.writes.wroteAttribute(element, BINDING_ATTRIBUTE)) {
      this.log.debug(`not bound: ${BINDING_ATTRIBUTE} written by an html.* signal (see bindInsertedContent):`, element);
      return false;
    }
    return true;
  }

  private bind(element: Element): void {
    if (this.bound.has(element)) return;
    this.bound.add(element);
    for (const binding of parseBindings(element, this.log)) {
      const type = binding.on ?? defaultEvent(element);
      const latest = this.latestKey(binding.latest ?? LATEST_BY_DEFAULT.has(type));
      element.addEventListener(type, (event) => {
        if (binding.prevent ?? !(event.type === "change" || event.type === "input")) {
          event.preventDefault();
        }
        // Read the fields once the other listeners of this event (rich text
        // editors copying their content into a textarea...) have run.
        setTimeout(() => this.fire(element, binding, latest), 0);
      });
    }
  }

  /** The `latest` key of one binding: its own (true), none (false), or the one it names. */
  private latestKey(latest: boolean | string): string | undefined {
    if (typeof latest === "string") return latest;
    if (!latest) return undefined;
    this.lastKey += 1;
    return `${BINDING_ATTRIBUTE}#${this.lastKey}`;
  }

  private emit(element: Element, type: string, detail: BindingResult | BindingProgress | BindingError): void {
    element.dispatchEvent(new CustomEvent(type, { bubbles: true, detail }));
  }

  private fire(element: Element, binding: Binding, latest: string | undefined): void {
    const opts: Opts = { ...binding.opts };
    if (binding.form !== undefined) {
      const form = formOf(element);
      if (form === null) this.log.debug(`no form around the element of ${binding.name}:`, element);
      opts[binding.form] = form === null ? [] : serializeForm(form);
    }
    if (binding.value !== undefined) {
      opts[binding.value] = elementValue(element);
    }
    const signal = binding.name;
    const callOpts: BindingCallOptions = {
      onProgress: (progress) => this.emit(element, PROGRESS_EVENT, { ...progress, signal, opts }),
    };
    if (latest !== undefined) callOpts.latest = latest;
    this.call(signal, opts, callOpts).then(
      (results) => this.emit(element, RESULT_EVENT, { signal, opts, results }),
      (err: unknown) => {
        if (err instanceof DFSignalError && err.type === SUPERSEDED) {
          // A newer call of this binding is under way: its answer is the one that counts.
          this.log.debug(`dfws signal '${signal}' from ${BINDING_ATTRIBUTE} superseded:`, err.message);
          return;
        }
        this.log.warn(`dfws signal '${signal}' from ${BINDING_ATTRIBUTE} failed:`, err);
        this.emit(element, ERROR_EVENT, { signal, opts, error: err });
      },
    );
  }
}
