import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Bindings } from "../src/bindings";
import { createClient } from "../src/client";
import type { Opts } from "../src/frames";
import { Logger } from "../src/log";
import { takeConsole } from "./helpers";

let calls: [string, Opts][];
let bindings: Bindings;

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
  bindings = new Bindings(async (name, opts) => {
    calls.push([name, opts]);
    return [];
  }, new Logger());
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
  it("binds elements inserted by html.append", async () => {
    const { api } = createClient();
    const handler = (opts: Opts): void => {
      calls.push(["local", opts]);
    };
    api.connect("row.delete", handler);
    bindings = new Bindings((name, opts) => api.call(name, opts), new Logger());
    watch(`<ul id="rows"></ul>`);
    await api.call("html.append", {
      selector: "#rows",
      content: `<li><button ${attr([{ name: "row.delete", opts: { id: 7 } }])}>x</button></li>`,
    });
    fire("#rows button", "click");
    await tick();
    expect(calls).toEqual([["local", { id: 7 }]]);
  });

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
    bindings = new Bindings((name, opts) => api.call(name, opts), new Logger());
    watch(`<button ${attr([{ name: "server.only" }])}>b</button>`);
    fire("button", "click");
    await tick();
    await tick();
    expect(takeConsole("warn")[0]?.join(" ")).toMatch(/'server.only' from data-df-signal failed/);
  });
});
