/**
 * Built-in dfws signals that change the page: `html.*` and `html.forms.set`.
 * Their option names are part of the public API (servers send them).
 */
import { isRecord, type Opts } from "./frames";

/** Bubbling event dispatched on HTML inserted by a signal, for late bindings. */
export const CONTENT_ADDED = "DOMContentAdded";

type Builtin = (opts: Opts) => void;

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
  return (opts) => {
    const html = text(opts, "content");
    for (const target of matches(signal, opts)) {
      const nodes = parseHtml(target.ownerDocument, html);
      insert(target, nodes);
      announce(nodes);
    }
  };
}

function classNames(opts: Opts): string[] {
  return text(opts, "class_name").split(/\s+/).filter(Boolean);
}

function setBoolean(element: Element, name: string, on: boolean): void {
  element.toggleAttribute(name, on);
  // `checked` and `selected` only seed the state: their property is the live one.
  const props = element as unknown as Record<string, unknown>;
  if (name in element && typeof props[name] === "boolean") {
    props[name] = on;
  }
}

function downloadFile(opts: Opts): void {
  const anchor = document.createElement("a");
  anchor.href = required("html.download_file", opts, "url");
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

/** Every built-in signal, by name. */
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
  "html.content": (opts) => {
    const html = text(opts, "content");
    for (const el of matches("html.content", opts)) {
      el.innerHTML = html;
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
  "html.add_attribute": (opts) => {
    const name = required("html.add_attribute", opts, "attr_name");
    const value = text(opts, "attr_value");
    for (const el of matches("html.add_attribute", opts)) el.setAttribute(name, value);
  },
  "html.remove_attr": (opts) => {
    const name = required("html.remove_attr", opts, "attr_name");
    for (const el of matches("html.remove_attr", opts)) el.removeAttribute(name);
  },
  "html.boolean_attribute": (opts) => {
    const name = required("html.boolean_attribute", opts, "name");
    const on = Boolean(opts.value);
    for (const el of matches("html.boolean_attribute", opts)) setBoolean(el, name, on);
  },
  "html.focus": (opts) => {
    const first = matches("html.focus", opts)[0];
    if (first instanceof HTMLElement || first instanceof SVGElement) first.focus();
  },
  "html.download_file": downloadFile,
  "html.forms.set": setForms,
  "html.progress": showProgress,
};
