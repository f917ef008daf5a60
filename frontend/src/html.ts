/**
 * Built-in dfws signals that change the page: `html.*` and `html.forms.set`.
 * Their option names are part of the public API (servers send them).
 */
import { isRecord, type Opts } from "./frames";
import type { Logger } from "./log";

/** Bubbling event dispatched on HTML inserted by a signal, for late bindings. */
export const CONTENT_ADDED = "DOMContentAdded";

/**
 * What the built-in signals wrote into the page: the nodes they inserted and
 * the attribute values they set. `data-df-signal` bindings read it to tell
 * the page's own markup and scripts from what a signal brought (see
 * `bindInsertedContent`). Weak: forgets the nodes the page drops.
 */
export class SignalWrites {
  private readonly nodes = new WeakSet<Node>();
  private readonly attributes = new WeakMap<Element, Map<string, string>>();

  /** Remember `nodes` (and so everything under them) as inserted by a signal. */
  inserted(nodes: Iterable<Node>): void {
    for (const node of nodes) this.nodes.add(node);
  }

  /** Set an attribute of `element`, remembering its value as written by a signal. */
  setAttribute(element: Element, name: string, value: string): void {
    element.setAttribute(name, value);
    const written = this.attributes.get(element);
    if (written) written.set(name, value);
    else this.attributes.set(element, new Map([[name, value]]));
  }

  /** Remove an attribute of `element`, and the memory of a value a signal wrote there. */
  removeAttribute(element: Element, name: string): void {
    element.removeAttribute(name);
    this.attributes.get(element)?.delete(name);
  }

  /** Whether `node`, or one of its ancestors up to `root` (included), was inserted by a signal. */
  insertedWithin(node: Node, root: Node): boolean {
    for (let current: Node | null = node; current !== null; current = current.parentNode) {
      if (this.nodes.has(current)) return true;
      if (current === root) return false;
    }
    return false;
  }

  /** Whether the attribute `name` of `element` still holds the value a signal wrote. */
  wroteAttribute(element: Element, name: string): boolean {
    const value = this.attributes.get(element)?.get(name);
    return value !== undefined && element.getAttribute(name) === value;
  }
}

/** What a built-in signal uses besides its options. */
export interface BuiltinContext {
  readonly log: Logger;
  readonly writes: SignalWrites;
}

type Builtin = (opts: Opts, context: BuiltinContext) => void;

/** URL schemes that signals follow (navigate to, download, load); anything else is refused. */
const FOLLOWED_PROTOCOLS: ReadonlySet<string> = new Set(["http:", "https:"]);

/**
 * Attributes whose value is a URL that the browser follows or loads, and
 * where a `javascript:` URL runs script: `html.add_attribute` checks them.
 */
const URL_ATTRIBUTES: ReadonlySet<string> = new Set(["href", "src", "action", "formaction", "xlink:href", "data"]);

/**
 * `raw` resolved against the page's base URL when it is an http(s) URL (or a
 * relative one that resolves to http(s)); null for `javascript:`, `data:`,
 * `blob:`, `vbscript:`... and for what does not parse. The same parser as the
 * browser's, so what is checked is what would be followed.
 */
export function followableUrl(raw: string, base: string = document.baseURI): URL | null {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return null;
  }
  return FOLLOWED_PROTOCOLS.has(url.protocol) ? url : null;
}

const MAX_LOGGED_URL = 100;

function refuseUrl(log: Logger, signal: string, what: string, raw: string): void {
  const shown = raw.length > MAX_LOGGED_URL ? `${raw.slice(0, MAX_LOGGED_URL)}…` : raw;
  log.warn(
    `dfws signal '${signal}' refused ${what} ${JSON.stringify(shown)}: only http(s) and relative URLs are followed`,
  );
}

function text(opts: Opts, key: string): string {
  const value = opts[key];
  return value === undefined || value === null ? "" : String(value);
}

function required(signal: string, opts: Opts, key: string): string {
  const value = opts[key];
  if (typeof value !== "string" || !value) {
    throw new TypeError(`dfws signal '${signal}' needs a '${key}' string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function matches(signal: string, opts: Opts): Element[] {
  return Array.from(document.querySelectorAll(required(signal, opts, "selector")));
}

function parseHtml(owner: Document, html: string): Node[] {
  const template = owner.createElement("template");
  template.innerHTML = html;
  return Array.from(template.content.childNodes);
}

function announce(nodes: Iterable<Node>): void {
  for (const node of nodes) {
    if (node.nodeType === Node.ELEMENT_NODE && node.isConnected) {
      node.dispatchEvent(new CustomEvent(CONTENT_ADDED, { bubbles: true }));
    }
  }
}

/** A signal inserting `content` (an HTML string) at a place relative to each match. */
function inserting(
  signal: string,
  insert: (target: Element, nodes: Node[]) => void,
): Builtin {
  return (opts, { writes }) => {
    const html = text(opts, "content");
    for (const target of matches(signal, opts)) {
      const nodes = parseHtml(target.ownerDocument, html);
      writes.inserted(nodes);
      insert(target, nodes);
      announce(nodes);
    }
  };
}

function classNames(opts: Opts): string[] {
  return text(opts, "class_name").split(/\s+/).filter(Boolean);
}

function setBoolean(writes: SignalWrites, element: Element, name: string, on: boolean): void {
  if (!on) writes.removeAttribute(element, name);
  else if (!element.hasAttribute(name)) writes.setAttribute(element, name, "");
  // `checked` and `selected` only seed the state: their property is the live one.
  const props = element as unknown as Record<string, unknown>;
  if (name in element && typeof props[name] === "boolean") {
    props[name] = on;
  }
}

function downloadFile(opts: Opts, { log }: BuiltinContext): void {
  const raw = required("html.download_file", opts, "url");
  const url = followableUrl(raw);
  if (url === null) {
    refuseUrl(log, "html.download_file", "the URL", raw);
    return;
  }
  const anchor = document.createElement("a");
  anchor.href = url.href; // the URL checked, not the raw string parsed again
  anchor.download = text(opts, "filename");
  anchor.style.display = "none";
  document.body.append(anchor);
  try {
    anchor.click();
  } finally {
    anchor.remove();
  }
}

/** `values` as a map from field name to value; repeated names give a list. */
function valuesByName(raw: unknown): Map<string, unknown> {
  const entries: [string, unknown][] = [];
  if (Array.isArray(raw)) {
    for (const item of raw) {
      if (isRecord(item) && typeof item.name === "string") entries.push([item.name, item.value]);
    }
  } else if (isRecord(raw)) {
    entries.push(...Object.entries(raw));
  }
  const byName = new Map<string, unknown>();
  for (const [name, value] of entries) {
    if (!byName.has(name)) {
      byName.set(name, value);
    } else {
      const previous = byName.get(name);
      byName.set(name, Array.isArray(previous) ? [...previous, value] : [previous, value]);
    }
  }
  return byName;
}

function asStrings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

type Field = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function isField(element: Element): element is Field {
  return (
    element instanceof HTMLInputElement ||
    element instanceof HTMLSelectElement ||
    element instanceof HTMLTextAreaElement
  );
}

function fieldsOf(container: Element): Field[] {
  const all =
    container instanceof HTMLFormElement
      ? Array.from(container.elements)
      : [container, ...Array.from(container.querySelectorAll("input, select, textarea"))];
  return all.filter(isField);
}

function setField(field: Field, value: unknown): void {
  if (field instanceof HTMLSelectElement) {
    const wanted = asStrings(value);
    for (const option of Array.from(field.options)) {
      option.selected = wanted.includes(option.value);
    }
  } else if (field instanceof HTMLInputElement && field.type === "checkbox") {
    if (typeof value === "boolean") field.checked = value;
    else if (Array.isArray(value)) field.checked = asStrings(value).includes(field.value);
    else if (value === null || value === undefined) field.checked = false;
    else field.value = String(value);
  } else if (field instanceof HTMLInputElement && field.type === "radio") {
    if (typeof value === "boolean") field.checked = value;
    else field.checked = asStrings(value).includes(field.value);
  } else if (field instanceof HTMLInputElement && field.type === "file") {
    // A script may only clear a file input.
    if (value === null || value === "") field.value = "";
  } else {
    field.value = value === undefined || value === null ? "" : String(value);
  }
}

function setForms(opts: Opts): void {
  const values = valuesByName(opts.values);
  for (const container of matches("html.forms.set", opts)) {
    for (const field of fieldsOf(container)) {
      if (field.name && values.has(field.name)) {
        setField(field, values.get(field.name));
      }
    }
  }
}

function showProgress(opts: Opts): void {
  const fraction = opts.fraction;
  const message = typeof opts.message === "string" ? opts.message : undefined;
  for (const element of matches("html.progress", opts)) {
    if (element instanceof HTMLProgressElement) {
      if (typeof fraction === "number" && Number.isFinite(fraction)) {
        element.value = Math.min(Math.max(fraction, 0), 1) * element.max;
      } else {
        element.removeAttribute("value"); // indeterminate
      }
      if (message !== undefined) element.title = message;
    }
    if (message !== undefined) element.textContent = message;
  }
}

/** Every built-in signal, by name; the client gives each its context. */
export const HTML_SIGNALS: Readonly<Record<string, Builtin>> = {
  "html.add_class": (opts) => {
    const names = classNames(opts);
    for (const el of matches("html.add_class", opts)) el.classList.add(...names);
  },
  "html.remove_class": (opts) => {
    const names = classNames(opts);
    for (const el of matches("html.remove_class", opts)) el.classList.remove(...names);
  },
  "html.after": inserting("html.after", (el, nodes) => el.after(...nodes)),
  "html.before": inserting("html.before", (el, nodes) => el.before(...nodes)),
  "html.append": inserting("html.append", (el, nodes) => el.append(...nodes)),
  "html.prepend": inserting("html.prepend", (el, nodes) => el.prepend(...nodes)),
  "html.replace_with": inserting("html.replace_with", (el, nodes) => el.replaceWith(...nodes)),
  "html.content": (opts, { writes }) => {
    const html = text(opts, "content");
    for (const el of matches("html.content", opts)) {
      el.innerHTML = html;
      writes.inserted(el.childNodes);
      announce([el]);
    }
  },
  "html.text": (opts) => {
    const content = text(opts, "content");
    for (const el of matches("html.text", opts)) el.textContent = content;
  },
  "html.empty": (opts) => {
    for (const el of matches("html.empty", opts)) el.replaceChildren();
  },
  "html.remove": (opts) => {
    for (const el of matches("html.remove", opts)) el.remove();
  },
  "html.add_attribute": (opts, { log, writes }) => {
    const name = required("html.add_attribute", opts, "attr_name");
    const value = text(opts, "attr_value");
    if (URL_ATTRIBUTES.has(name.toLowerCase()) && followableUrl(value) === null) {
      refuseUrl(log, "html.add_attribute", name, value);
      return;
    }
    for (const el of matches("html.add_attribute", opts)) writes.setAttribute(el, name, value);
  },
  "html.remove_attr": (opts, { writes }) => {
    const name = required("html.remove_attr", opts, "attr_name");
    for (const el of matches("html.remove_attr", opts)) writes.removeAttribute(el, name);
  },
  "html.boolean_attribute": (opts, { writes }) => {
    const name = required("html.boolean_attribute", opts, "name");
    const on = Boolean(opts.value);
    for (const el of matches("html.boolean_attribute", opts)) setBoolean(writes, el, name, on);
  },
  "html.focus": (opts) => {
    const first = matches("html.focus", opts)[0];
    if (first instanceof HTMLElement || first instanceof SVGElement) first.focus();
  },
  "html.download_file": downloadFile,
  "html.forms.set": setForms,
  "html.progress": showProgress,
};
