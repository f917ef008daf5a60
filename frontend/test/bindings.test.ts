import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Bindings, type Caller } from "../src/bindings";
import { createClient } from "../src/client";
import type { Opts } from "../src/frames";
import { HTML_SIGNALS, SignalWrites } from "../src/html";
import { Logger } from "../src/log";
import { defaultOptions, type DFSignalsOptions } from "../src/options";
import { takeConsole } from "./helpers";

let calls: [string, Opts][];
let bindings: Bindings;
let options: DFSignalsOptions;
let writes: SignalWrites;

const record: Caller = async (name, opts) => {
  calls.push([name, opts]);
  return [];
};

/** Run a built-in html.* signal as the client does, sharing `writes` with the bindings. */
function signal(name: string, opts: Opts): void {
  const builtin = HTML_SIGNALS[name];
  if (!builtin) throw new Error(`no built-in ${name}`);
  builtin(opts, { log: new Logger(), writes });
}

function watch(html: string): void {
  document.body.innerHTML = html;
  bindings.watch(document);
}

function fire(selector: string, type: string): Event {
  const event = new Event(type, { bubbles: true, cancelable: true });
  document.querySelector(selector)?.dispatchEvent(event);
  return event;
}

/** Let the deferred calls (setTimeout 0) run. */
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

const attr = (value: unknown): string => `data-df-signal='${JSON.stringify(value)}'`;

beforeEach(() => {
  calls = [];
  options = defaultOptions();
  writes = new SignalWrites();
  bindings = new Bindings(record, new Logger(), options, writes);
});

afterEach(async () => {
  bindings.unwatch();
  await tick(); // let the calls a test deferred land before the next one starts
});

describe("default events", () => {
  it("calls on submit for a form, with the serialized form and fixed opts", async () => {
    watch(`<form ${attr([{ name: "post.save", form: "form_data", opts: { id: 42 } }])}>
      <input name="title" value="df"></form>`);
    fire("form", "submit");
    expect(calls).toEqual([]); // deferred
    await tick();
    expect(calls).toEqual([["post.save", { id: 42, form_data: [{ name: "title", value: "df" }] }]]);
  });

  it("calls on click for a button", async () => {
    watch(`<button ${attr([{ name: "a.click" }])}>b</button><input type="submit" ${attr([{ name: "a.submit" }])}>`);
    fire("button", "click");
    fire("input", "click");
    await tick();
    expect(calls.map(([name]) => name)).toEqual(["a.click", "a.submit"]);
  });

  it("calls on change for an input, a select and a textarea", async () => {
    watch(`<input ${attr([{ name: "a.input" }])}><select ${attr([{ name: "a.select" }])}></select>
      <textarea ${attr([{ name: "a.text" }])}></textarea>`);
    fire("input", "click");
    fire("input", "change");
    fire("select", "change");
    fire("textarea", "change");
    await tick();
    expect(calls.map(([name]) => name)).toEqual(["a.input", "a.select", "a.text"]);
  });

  it("listens to the event named by on", async () => {
    watch(`<input ${attr([{ name: "a.typed", on: "input" }])}>`);
    fire("input", "change");
    fire("input", "input");
    await tick();
    expect(calls.map(([name]) => name)).toEqual(["a.typed"]);
  });
});

describe("options of the call", () => {
  it("puts the element's value under the value option", async () => {
    watch(`<form><input name="title" value="new title" ${attr([{ name: "a.b", value: "title", opts: { id: 42 } }])}></form>`);
    fire("input", "change");
    await tick();
    expect(calls).toEqual([["a.b", { id: 42, title: "new title" }]]);
  });

  it("puts a checkbox's checked state under the value option", async () => {
    watch(`<input type="checkbox" checked ${attr([{ name: "a.b", value: "on" }])}>`);
    fire("input", "change");
    await tick();
    expect(calls).toEqual([["a.b", { on: true }]]);
  });

  it("serializes the enclosing form of a field", async () => {
    watch(`<form><input name="q" value="1"><select name="s" ${attr([{ name: "a.b", form: "data" }])}>
      <option selected>x</option></select></form>`);
    fire("select", "change");
    await tick();
    expect(calls[0]?.[1]).toEqual({ data: [{ name: "q", value: "1" }, { name: "s", value: "x" }] });
  });

  it("gives each event its own copy of opts", async () => {
    watch(`<button ${attr([{ name: "a.b", opts: { n: 1 } }])}>b</button>`);
    fire("button", "click");
    await tick();
    (calls[0]?.[1] as Opts).n = 99;
    fire("button", "click");
    await tick();
    expect(calls[1]?.[1]).toEqual({ n: 1 });
  });

  it("reads the form after the other listeners of the event updated it", async () => {
    watch(`<form ${attr([{ name: "a.b", form: "data" }])}><textarea name="body"></textarea></form>`);
    // e.g. a rich text editor copying its content into the textarea on submit
    document.querySelector("form")?.addEventListener("submit", () => {
      (document.querySelector("textarea") as HTMLTextAreaElement).value = "from editor";
    });
    fire("form", "submit");
    await tick();
    expect(calls[0]?.[1]).toEqual({ data: [{ name: "body", value: "from editor" }] });
  });

  it("makes one call per entry of the list", async () => {
    watch(`<button ${attr([{ name: "a.one" }, { name: "a.two", on: "dblclick" }, { name: "a.three" }])}>b</button>`);
    fire("button", "click");
    await tick();
    expect(calls.map(([name]) => name)).toEqual(["a.one", "a.three"]);
  });
});

describe("preventDefault", () => {
  it("prevents the default action of submit and click by default, synchronously", () => {
    watch(`<form ${attr([{ name: "a.b" }])}></form><a href="#x" ${attr([{ name: "a.c" }])}>a</a>`);
    expect(fire("form", "submit").defaultPrevented).toBe(true);
    expect(fire("a", "click").defaultPrevented).toBe(true);
  });

  it("does not prevent change and input events by default", () => {
    watch(`<input ${attr([{ name: "a.b" }, { name: "a.c", on: "input" }])}>`);
    expect(fire("input", "change").defaultPrevented).toBe(false);
    expect(fire("input", "input").defaultPrevented).toBe(false);
  });

  it("follows an explicit prevent option", () => {
    watch(`<form ${attr([{ name: "a.b", prevent: false }])}></form><input ${attr([{ name: "a.c", prevent: true }])}>`);
    expect(fire("form", "submit").defaultPrevented).toBe(false);
    expect(fire("input", "change").defaultPrevented).toBe(true);
  });
});

describe("content added later", () => {
  it("binds elements inserted by other scripts", async () => {
    watch(`<div id="box"></div>`);
    document.getElementById("box")?.insertAdjacentHTML("beforeend", `<button ${attr([{ name: "late.b" }])}>b</button>`);
    await tick(); // mutation observers report asynchronously
    fire("button", "click");
    await tick();
    expect(calls.map(([name]) => name)).toEqual(["late.b"]);
  });

  it("binds an element that gets the attribute later", async () => {
    watch(`<button>b</button>`);
    document.querySelector("button")?.setAttribute("data-df-signal", JSON.stringify([{ name: "late.attr" }]));
    await tick();
    fire("button", "click");
    await tick();
    expect(calls.map(([name]) => name)).toEqual(["late.attr"]);
  });

  it("binds each element only once", async () => {
    watch(`<div id="box"><button ${attr([{ name: "once" }])}>b</button></div>`);
    const box = document.getElementById("box") as HTMLElement;
    box.dispatchEvent(new CustomEvent("DOMContentAdded", { bubbles: true }));
    bindings.scan(document);
    fire("button", "click");
    await tick();
    expect(calls).toHaveLength(1);
  });
});

describe("content written by html.* signals", () => {
  const button = (name: string): string => `<button ${attr([{ name }])}>b</button>`;
  const inserting: [string, string][] = [
    ["html.content", "#box"],
    ["html.append", "#box"],
    ["html.prepend", "#box"],
    ["html.before", "#box"],
    ["html.after", "#box"],
    ["html.replace_with", "#box"],
  ];

  /** Insert a bound button with `name`, let the observer run, click the button. */
  async function insertAndClick(name: string, selector: string): Promise<void> {
    signal(name, { selector, content: `<p>${button("injected")}</p>` });
    await tick(); // the observer's records
    fire("p button", "click");
    await tick();
  }

  it.each(inserting)("%s: not bound by default", async (name, selector) => {
    watch(`<div id="box"></div>`);
    await insertAndClick(name, selector);
    expect(document.querySelector("p button")).not.toBeNull();
    expect(calls).toEqual([]);
  });

  it.each(inserting)("%s: bound with bindInsertedContent", async (name, selector) => {
    options.bindInsertedContent = true;
    watch(`<div id="box"></div>`);
    await insertAndClick(name, selector);
    expect(calls.map(([n]) => n)).toEqual(["injected"]);
  });

  it("reads bindInsertedContent when the content is scanned, right after it is inserted", async () => {
    watch(`<ul id="rows"></ul>`);
    signal("html.append", { selector: "#rows", content: button("top.off") });
    await tick();
    options.bindInsertedContent = true;
    signal("html.append", { selector: "#rows", content: button("top.on") });
    await tick();
    for (const b of Array.from(document.querySelectorAll("#rows button"))) b.dispatchEvent(new Event("click"));
    await tick();
    expect(calls.map(([n]) => n)).toEqual(["top.on"]);
  });

  it("does not bind signal content already in the page at the first scan", async () => {
    document.body.innerHTML = `<div id="box"></div><span ${attr([{ name: "page.own" }])}>s</span>`;
    signal("html.content", { selector: "#box", content: button("early") });
    bindings.watch(document);
    fire("#box button", "click");
    fire("span", "click");
    await tick();
    expect(calls.map(([n]) => n)).toEqual(["page.own"]);
  });

  it("binds what the page's own scripts insert inside signal content", async () => {
    watch(`<div id="box"></div>`);
    signal("html.content", { selector: "#box", content: `<section>${button("injected")}</section>` });
    await tick();
    document.querySelector("section")?.insertAdjacentHTML("beforeend", `<i ${attr([{ name: "page.own" }])}>i</i>`);
    await tick();
    fire("section button", "click");
    fire("section i", "click");
    await tick();
    expect(calls.map(([n]) => n)).toEqual(["page.own"]);
  });

  it("binds an attribute that a page script sets on signal content", async () => {
    watch(`<div id="box"></div>`);
    signal("html.append", { selector: "#box", content: `<button id="b">b</button>` });
    await tick();
    document.getElementById("b")?.setAttribute("data-df-signal", JSON.stringify([{ name: "page.own" }]));
    await tick();
    fire("#b", "click");
    await tick();
    expect(calls.map(([n]) => n)).toEqual(["page.own"]);
  });

  it("does not bind a data-df-signal set by html.add_attribute, unless bindInsertedContent", async () => {
    watch(`<button id="a">a</button><button id="b">b</button>`);
    const value = (name: string): string => JSON.stringify([{ name }]);
    signal("html.add_attribute", { selector: "#a", attr_name: "data-df-signal", attr_value: value("by.attr") });
    await tick();
    options.bindInsertedContent = true;
    signal("html.add_attribute", { selector: "#b", attr_name: "data-df-signal", attr_value: value("by.attr.on") });
    await tick();
    fire("#a", "click");
    fire("#b", "click");
    await tick();
    expect(calls.map(([n]) => n)).toEqual(["by.attr.on"]);
  });

  it("does not bind signal content on DOMContentAdded either, and binds it there once allowed", async () => {
    watch(`<div id="box"></div>`);
    bindings.unwatch(); // no observer: only the scans below
    signal("html.content", { selector: "#box", content: button("injected") });
    const box = document.getElementById("box") as HTMLElement;
    bindings.scan(box);
    fire("#box button", "click");
    await tick();
    expect(calls).toEqual([]);
    options.bindInsertedContent = true;
    bindings.scan(box);
    fire("#box button", "click");
    await tick();
    expect(calls.map(([n]) => n)).toEqual(["injected"]);
  });
});

describe("invalid attributes", () => {
  it("reports invalid JSON and binds nothing", async () => {
    watch(`<button data-df-signal='[{"name": '>b</button>`);
    fire("button", "click");
    await tick();
    expect(calls).toEqual([]);
    expect(String(takeConsole("error")[0]?.[1])).toMatch(/data-df-signal is not valid JSON/);
  });

  it("reports an entry without a name and binds the valid ones", async () => {
    watch(`<button ${attr([{ on: "click" }, { name: "ok" }])}>b</button>`);
    fire("button", "click");
    await tick();
    expect(calls.map(([name]) => name)).toEqual(["ok"]);
    expect(takeConsole("error")).toHaveLength(1);
  });

  it("warns when the call of a binding fails", async () => {
    const { api } = createClient();
    bindings = new Bindings((name, opts) => api.call(name, opts), new Logger(), options, writes);
    watch(`<button ${attr([{ name: "server.only" }])}>b</button>`);
    fire("button", "click");
    await tick();
    await tick();
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/'server.only' from data-df-signal failed/);
  });
});
