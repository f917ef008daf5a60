import { describe, expect, it } from "vitest";
import { elementValue, formOf, serializeForm } from "../src/forms";

function form(html: string): HTMLFormElement {
  document.body.innerHTML = `<form id="f">${html}</form>`;
  return document.getElementById("f") as HTMLFormElement;
}

function chooseFiles(input: HTMLInputElement, names: string[]): void {
  const files = names.map((name) => new File(["data"], name));
  Object.defineProperty(input, "files", { value: files });
}

describe("serializeForm", () => {
  it("lists named fields as name/value entries in document order", () => {
    const f = form(`<input name="a" value="1"><textarea name="b">two</textarea><input type="hidden" name="c" value="3">`);
    expect(serializeForm(f)).toEqual([
      { name: "a", value: "1" },
      { name: "b", value: "two" },
      { name: "c", value: "3" },
    ]);
  });

  it("skips unnamed, disabled and button-like fields", () => {
    const f = form(`
      <input value="unnamed">
      <input name="off" value="x" disabled>
      <fieldset disabled><input name="in_off_fieldset" value="x"></fieldset>
      <input type="submit" name="s" value="Go"><input type="reset" name="r"><input type="button" name="b" value="b">
      <input type="image" name="i" alt="i">
      <button name="btn" value="x">b</button>
      <input name="kept" value="k">`);
    expect(serializeForm(f)).toEqual([{ name: "kept", value: "k" }]);
  });

  it("includes checkboxes and radios only when checked", () => {
    const f = form(`
      <input type="checkbox" name="c1" value="yes" checked><input type="checkbox" name="c2" value="no">
      <input type="checkbox" name="c3" checked>
      <input type="radio" name="r" value="a"><input type="radio" name="r" value="b" checked>`);
    expect(serializeForm(f)).toEqual([
      { name: "c1", value: "yes" },
      { name: "c3", value: "on" },
      { name: "r", value: "b" },
    ]);
  });

  it("gives one entry per selected option of a multiple select", () => {
    const f = form(`
      <select name="m" multiple>
        <option selected>a</option><option>b</option><option value="C" selected>c</option>
        <option selected disabled>d</option>
      </select>
      <select name="one"><option>x</option><option selected>y</option></select>`);
    expect(serializeForm(f)).toEqual([
      { name: "m", value: "a" },
      { name: "m", value: "C" },
      { name: "one", value: "y" },
    ]);
  });

  it("gives one entry per chosen file, valued with its name", () => {
    const f = form(`<input type="file" name="docs" multiple><input type="file" name="none">`);
    chooseFiles(f.elements.namedItem("docs") as HTMLInputElement, ["a.pdf", "b.png"]);
    expect(serializeForm(f)).toEqual([
      { name: "docs", value: "a.pdf" },
      { name: "docs", value: "b.png" },
    ]);
  });

  it("includes fields attached to the form from outside it", () => {
    const f = form(`<input name="inside" value="1">`);
    document.body.insertAdjacentHTML("beforeend", `<input name="outside" form="f" value="2">`);
    expect(serializeForm(f)).toEqual([
      { name: "inside", value: "1" },
      { name: "outside", value: "2" },
    ]);
  });
});

describe("elementValue", () => {
  it("is the checked state of a checkbox or radio", () => {
    form(`<input type="checkbox" id="c" checked><input type="radio" id="r">`);
    expect(elementValue(document.getElementById("c") as Element)).toBe(true);
    expect(elementValue(document.getElementById("r") as Element)).toBe(false);
  });

  it("is the list of selected values of a multiple select", () => {
    form(`<select id="s" multiple><option selected>a</option><option>b</option><option selected>c</option></select>`);
    expect(elementValue(document.getElementById("s") as Element)).toEqual(["a", "c"]);
  });

  it("is the list of file names of a file input", () => {
    form(`<input type="file" id="f1">`);
    const input = document.getElementById("f1") as HTMLInputElement;
    chooseFiles(input, ["x.txt"]);
    expect(elementValue(input)).toEqual(["x.txt"]);
  });

  it("is the value of other fields", () => {
    form(`<input id="t" value="hello"><select id="o"><option>a</option><option selected>b</option></select><textarea id="ta">z</textarea>`);
    expect(["t", "o", "ta"].map((id) => elementValue(document.getElementById(id) as Element))).toEqual([
      "hello",
      "b",
      "z",
    ]);
  });
});

describe("formOf", () => {
  it("finds the form owner, or else the closest form", () => {
    const f = form(`<input id="i"><div id="d"></div>`);
    document.body.insertAdjacentHTML("beforeend", `<button id="b" form="f">b</button><span id="alone"></span>`);
    expect(formOf(document.getElementById("i") as Element)).toBe(f);
    expect(formOf(document.getElementById("d") as Element)).toBe(f);
    expect(formOf(document.getElementById("b") as Element)).toBe(f);
    expect(formOf(f)).toBe(f);
    expect(formOf(document.getElementById("alone") as Element)).toBeNull();
  });
});
