import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createClient } from "../src/client";
import { takeConsole } from "./helpers";

const { api } = createClient();
let added: Element[] = [];
const record = (event: Event): void => {
  added.push(event.target as Element);
};

beforeEach(() => {
  added = [];
  document.addEventListener("DOMContentAdded", record);
});

afterEach(() => {
  document.removeEventListener("DOMContentAdded", record);
});

function page(html: string): void {
  document.body.innerHTML = html;
}

const html = (): string => document.body.innerHTML;

describe("classes and attributes", () => {
  it("html.add_class adds one or several classes to every match", () => {
    page(`<p class="a"></p><p></p>`);
    void api.call("html.add_class", { selector: "p", class_name: "on big" });
    expect(html()).toBe(`<p class="a on big"></p><p class="on big"></p>`);
  });

  it("html.remove_class removes the class from every match", () => {
    page(`<p class="a on"></p><p class="on"></p>`);
    void api.call("html.remove_class", { selector: "p", class_name: "on" });
    expect(html()).toBe(`<p class="a"></p><p class=""></p>`);
  });

  it("html.add_attribute sets an attribute", () => {
    page(`<a></a>`);
    void api.call("html.add_attribute", { selector: "a", attr_name: "href", attr_value: "/next" });
    expect(html()).toBe(`<a href="/next"></a>`);
  });

  it("html.remove_attr removes an attribute", () => {
    page(`<a href="/x" title="t"></a>`);
    void api.call("html.remove_attr", { selector: "a", attr_name: "title" });
    expect(html()).toBe(`<a href="/x"></a>`);
  });

  it("html.boolean_attribute sets a truthy attribute and removes a falsy one", () => {
    page(`<button>b</button><input type="checkbox">`);
    void api.call("html.boolean_attribute", { selector: "button", name: "disabled", value: true });
    expect(document.querySelector("button")?.disabled).toBe(true);
    void api.call("html.boolean_attribute", { selector: "button", name: "disabled", value: false });
    expect(document.querySelector("button")?.hasAttribute("disabled")).toBe(false);
  });

  it("html.boolean_attribute changes the live checked state of a checkbox", () => {
    page(`<input type="checkbox">`);
    const box = document.querySelector("input") as HTMLInputElement;
    box.click(); // the user checked it: the attribute no longer drives the state
    void api.call("html.boolean_attribute", { selector: "input", name: "checked", value: 0 });
    expect(box.checked).toBe(false);
    expect(box.hasAttribute("checked")).toBe(false);
  });
});

describe("inserting HTML", () => {
  it("html.after inserts the content after each match and announces it", () => {
    page(`<ul><li id="a"></li><li id="b"></li></ul>`);
    void api.call("html.after", { selector: "li", content: `<li class="n">x</li>` });
    expect(document.querySelector("ul")?.innerHTML).toBe(
      `<li id="a"></li><li class="n">x</li><li id="b"></li><li class="n">x</li>`,
    );
    expect(added).toHaveLength(2);
    expect(added.every((el) => el.className === "n")).toBe(true);
  });

  it("html.before inserts the content before the match", () => {
    page(`<p id="p"></p>`);
    void api.call("html.before", { selector: "#p", content: `<hr><span>s</span>` });
    expect(html()).toBe(`<hr><span>s</span><p id="p"></p>`);
    expect(added.map((el) => el.tagName)).toEqual(["HR", "SPAN"]);
  });

  it("html.append adds the content at the end of the children", () => {
    page(`<table><tbody><tr><td>1</td></tr></tbody></table>`);
    void api.call("html.append", { selector: "tbody", content: `<tr><td>2</td></tr>` });
    expect(document.querySelectorAll("td")[1]?.textContent).toBe("2");
    expect(added.map((el) => el.tagName)).toEqual(["TR"]);
  });

  it("html.prepend adds the content at the start of the children", () => {
    page(`<div><b>old</b></div>`);
    void api.call("html.prepend", { selector: "div", content: `new <i>!</i>` });
    expect(html()).toBe(`<div>new <i>!</i><b>old</b></div>`);
    expect(added.map((el) => el.tagName)).toEqual(["I"]);
  });

  it("html.content replaces the inner HTML and announces it on the parent", () => {
    page(`<div id="box"><p>old</p></div>`);
    void api.call("html.content", { selector: "#box", content: `<span>hello</span>` });
    expect(html()).toBe(`<div id="box"><span>hello</span></div>`);
    expect(added).toEqual([document.getElementById("box")]);
  });

  it("html.replace_with replaces the element itself", () => {
    page(`<div><p id="old">old</p></div>`);
    void api.call("html.replace_with", { selector: "#old", content: `<section id="new">n</section>` });
    expect(html()).toBe(`<div><section id="new">n</section></div>`);
    expect(added).toEqual([document.getElementById("new")]);
  });

  it("does not run scripts found in inserted HTML", () => {
    page(`<div id="box"></div>`);
    const script = `<script>document.body.setAttribute("data-ran", "1")</script>`;
    void api.call("html.append", { selector: "#box", content: script });
    void api.call("html.content", { selector: "#box", content: script });
    expect(document.body.hasAttribute("data-ran")).toBe(false);
  });
});

describe("text and removal", () => {
  it("html.text sets the text, not HTML", () => {
    page(`<p><b>x</b></p>`);
    void api.call("html.text", { selector: "p", content: "<span>hello</span>" });
    expect(html()).toBe(`<p>&lt;span&gt;hello&lt;/span&gt;</p>`);
    expect(added).toEqual([]);
  });

  it("html.empty removes the children", () => {
    page(`<ul><li>1</li><li>2</li></ul>`);
    void api.call("html.empty", { selector: "ul" });
    expect(html()).toBe(`<ul></ul>`);
  });

  it("html.remove removes every match", () => {
    page(`<p class="x"></p><p></p><p class="x"></p>`);
    void api.call("html.remove", { selector: ".x" });
    expect(html()).toBe(`<p></p>`);
  });
});

describe("focus, download and progress", () => {
  it("html.focus focuses the first match", () => {
    page(`<input id="a"><input id="b">`);
    void api.call("html.focus", { selector: "input" });
    expect(document.activeElement?.id).toBe("a");
  });

  /** The anchors html.download_file clicks (the clicks are cancelled: jsdom cannot navigate). */
  function downloads(opts: Record<string, unknown>): { href: string; download: string }[] {
    const clicked: { href: string; download: string }[] = [];
    const onClick = (event: Event): void => {
      const anchor = event.target as HTMLAnchorElement;
      clicked.push({ href: anchor.getAttribute("href") ?? "", download: anchor.download });
      event.preventDefault();
    };
    document.addEventListener("click", onClick);
    try {
      void api.call("html.download_file", opts);
    } finally {
      document.removeEventListener("click", onClick);
    }
    return clicked;
  }

  it("html.download_file clicks a temporary anchor with a download attribute", () => {
    expect(downloads({ url: "/media/report.pdf", filename: "report.pdf" })).toEqual([
      { href: new URL("/media/report.pdf", document.baseURI).href, download: "report.pdf" },
    ]);
    expect(document.querySelector("a")).toBeNull();
  });

  it.each([
    ["report.pdf", new URL("report.pdf", document.baseURI).href],
    ["https://files.example/r.pdf", "https://files.example/r.pdf"],
    ["http://files.example/r.pdf", "http://files.example/r.pdf"],
    ["//files.example/r.pdf", "http://files.example/r.pdf"], // protocol-relative: the page's http
  ])("html.download_file follows the http(s) or relative URL %s", (url, href) => {
    expect(downloads({ url, filename: "r.pdf" })).toEqual([{ href, download: "r.pdf" }]);
  });

  it.each([
    "javascript:document.body.dataset.pwned = '1'",
    "JavaScript:alert(1)",
    " \tjava\nscript:alert(1)", // the URL parser drops tabs, newlines and leading spaces
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "blob:http://localhost:3000/0a0b0c0d-0000-4000-8000-000000000000",
    "file:///etc/passwd",
    "http://[not a host",
  ])("html.download_file refuses %j with a warning and clicks nothing", (url) => {
    expect(downloads({ url, filename: "x" })).toEqual([]);
    expect(document.querySelector("a")).toBeNull();
    expect(document.body.dataset.pwned).toBeUndefined();
    const [warning] = takeConsole("warn");
    expect(warning?.join(" ")).toMatch(/'html.download_file' refused the URL .*: only http\(s\) and relative URLs are followed/);
  });

  it("html.add_attribute refuses a non-http(s) URL in a URL attribute, and leaves other attributes alone", () => {
    page(`<a id="a" href="/safe"></a><iframe id="f"></iframe><form id="g"></form>`);
    void api.call("html.add_attribute", { selector: "#a", attr_name: "href", attr_value: "javascript:alert(1)" });
    void api.call("html.add_attribute", { selector: "#f", attr_name: "SRC", attr_value: "data:text/html,<b>x</b>" });
    void api.call("html.add_attribute", { selector: "#g", attr_name: "action", attr_value: " javascript:alert(1)" });
    expect(takeConsole("warn").map((args) => args.join(" "))).toEqual([
      `[dfws] dfws signal 'html.add_attribute' refused href "javascript:alert(1)": only http(s) and relative URLs are followed`,
      `[dfws] dfws signal 'html.add_attribute' refused SRC "data:text/html,<b>x</b>": only http(s) and relative URLs are followed`,
      `[dfws] dfws signal 'html.add_attribute' refused action " javascript:alert(1)": only http(s) and relative URLs are followed`,
    ]);
    void api.call("html.add_attribute", { selector: "#a", attr_name: "href", attr_value: "../next?x=1" });
    void api.call("html.add_attribute", { selector: "#a", attr_name: "title", attr_value: "javascript:is just text here" });
    expect(html()).toBe(
      `<a id="a" href="../next?x=1" title="javascript:is just text here"></a><iframe id="f"></iframe><form id="g"></form>`,
    );
  });
  it("html.progress sets value from the fraction of max and shows the message", () => {
    page(`<progress id="a"></progress><progress id="b" max="200"></progress>`);
    void api.call("html.progress", { selector: "progress", fraction: 0.25, message: "a quarter" });
    const [a, b] = Array.from(document.querySelectorAll("progress"));
    expect([a?.value, b?.value]).toEqual([0.25, 50]);
    expect([a?.title, a?.textContent]).toEqual(["a quarter", "a quarter"]);
  });

  it("html.progress without a fraction makes the bar indeterminate", () => {
    page(`<progress value="0.5"></progress>`);
    void api.call("html.progress", { selector: "progress" });
    expect(document.querySelector("progress")?.hasAttribute("value")).toBe(false);
  });
});

describe("html.forms.set", () => {
  const form = `
    <form id="f">
      <input name="title" value="old">
      <textarea name="body"></textarea>
      <input type="checkbox" name="agree">
      <input type="checkbox" name="flag" value="a">
      <input type="checkbox" name="tags" value="x"><input type="checkbox" name="tags" value="y" checked>
      <input type="radio" name="size" value="s" checked><input type="radio" name="size" value="m">
      <select name="one"><option value="1">1</option><option value="2">2</option></select>
      <select name="many" multiple><option>a</option><option>b</option><option>c</option></select>
      <input name="untouched" value="keep">
    </form>`;
  const field = <T extends Element>(selector: string): T => document.querySelector(selector) as T;

  it("sets text fields and textareas", () => {
    page(form);
    void api.call("html.forms.set", { selector: "#f", values: [{ name: "title", value: "new" }, { name: "body", value: "text" }] });
    expect(field<HTMLInputElement>("[name=title]").value).toBe("new");
    expect(field<HTMLTextAreaElement>("[name=body]").value).toBe("text");
    expect(field<HTMLInputElement>("[name=untouched]").value).toBe("keep");
  });

  it("checks a checkbox with a boolean and sets its value with a string", () => {
    page(form);
    void api.call("html.forms.set", { selector: "#f", values: [{ name: "agree", value: true }, { name: "flag", value: "b" }] });
    expect(field<HTMLInputElement>("[name=agree]").checked).toBe(true);
    expect(field<HTMLInputElement>("[name=flag]").value).toBe("b");
  });

  it("checks the checkboxes of a group whose values are listed", () => {
    page(form);
    void api.call("html.forms.set", { selector: "#f", values: [{ name: "tags", value: ["x"] }] });
    const boxes = Array.from(document.querySelectorAll<HTMLInputElement>("[name=tags]"));
    expect(boxes.map((b) => b.checked)).toEqual([true, false]);
  });

  it("checks the radio whose value is given", () => {
    page(form);
    void api.call("html.forms.set", { selector: "#f", values: [{ name: "size", value: "m" }] });
    const radios = Array.from(document.querySelectorAll<HTMLInputElement>("[name=size]"));
    expect(radios.map((r) => r.checked)).toEqual([false, true]);
  });

  it("unchecks every radio of a group with false", () => {
    page(form);
    void api.call("html.forms.set", { selector: "#f", values: [{ name: "size", value: false }] });
    const radios = Array.from(document.querySelectorAll<HTMLInputElement>("[name=size]"));
    expect(radios.map((r) => r.checked)).toEqual([false, false]);
  });

  it("selects an option or, for a multiple select, every listed option", () => {
    page(form);
    void api.call("html.forms.set", {
      selector: "#f",
      values: [
        { name: "one", value: 2 },
        { name: "many", value: ["a", "c"] },
      ],
    });
    expect(field<HTMLSelectElement>("[name=one]").value).toBe("2");
    const selected = Array.from(field<HTMLSelectElement>("[name=many]").selectedOptions, (o) => o.value);
    expect(selected).toEqual(["a", "c"]);
  });

  it("accepts serialized-form output where a name repeats", () => {
    page(form);
    void api.call("html.forms.set", {
      selector: "#f",
      values: [
        { name: "many", value: "b" },
        { name: "many", value: "c" },
      ],
    });
    const selected = Array.from(field<HTMLSelectElement>("[name=many]").selectedOptions, (o) => o.value);
    expect(selected).toEqual(["b", "c"]);
  });
});

describe("bad options", () => {
  it("logs a built-in signal called without its selector", async () => {
    await api.call("html.content", { content: "x" });
    expect(String(takeConsole("error")[0]?.[2])).toMatch(/'html.content' needs a 'selector' string/);
  });
});
