import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { FakeSocket, takeConsole } from "./helpers";

beforeEach(() => {
  vi.resetModules();
  FakeSocket.instances = [];
  vi.stubGlobal("WebSocket", FakeSocket);
  delete (window as Partial<Window>).DFSignals;
});

afterEach(() => {
  vi.unstubAllGlobals();
  Reflect.deleteProperty(document, "readyState");
});

it("installs window.DFSignals and no other global", async () => {
  const before = new Set(Object.getOwnPropertyNames(window));
  await import("../src/index");
  const added = Object.getOwnPropertyNames(window).filter((name) => !before.has(name));
  expect(added).toEqual(["DFSignals"]);
  expect(Object.keys(window.DFSignals).sort()).toEqual([
    "DFSignalError",
    "ajaxHeaders",
    "call",
    "connect",
    "connectSocket",
    "debug",
    "disconnect",
    "off",
    "on",
    "options",
    "renew",
    "state",
    "windowKey",
  ]);
});

it("connects to the dfwsurl cookie's URL once the page is loaded", async () => {
  document.cookie = "dfwsurl=ws%3A%2F%2Fserver%2Fws%2F";
  Object.defineProperty(document, "readyState", { value: "loading", configurable: true });
  await import("../src/index");
  expect(FakeSocket.instances).toEqual([]);
  document.dispatchEvent(new Event("DOMContentLoaded"));
  expect(FakeSocket.latest().url).toBe("ws://server/ws/");
});

it("sends calls made before the page finished loading once connected", async () => {
  document.cookie = "dfwsurl=ws%3A%2F%2Fserver%2Fws%2F";
  Object.defineProperty(document, "readyState", { value: "loading", configurable: true });
  await import("../src/index");
  void window.DFSignals.call("early.bird", { n: 1 });
  document.dispatchEvent(new Event("DOMContentLoaded"));
  FakeSocket.latest().open();
  expect(FakeSocket.latest().frames().map((f) => f.signal)).toEqual(["early.bird"]);
});

it("keeps the first DFSignals when the script is included twice", async () => {
  await import("../src/index");
  const first = window.DFSignals;
  vi.resetModules();
  await import("../src/index");
  expect(window.DFSignals).toBe(first);
  expect(takeConsole("warn")[0]?.join(" ")).toMatch(/included twice/);
});
