// Console output is part of the behaviour: every test starts with silent spies
// and must assert (then clear, see takeConsole) each warning or error it causes.
import { afterEach, beforeEach, expect, vi } from "vitest";

beforeEach(() => {
  vi.spyOn(console, "debug").mockImplementation(() => undefined);
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});

afterEach(() => {
  expect(vi.mocked(console.error).mock.calls, "unexpected console.error").toEqual([]);
  expect(vi.mocked(console.warn).mock.calls, "unexpected console.warn").toEqual([]);
  vi.useRealTimers();
  if (typeof document === "undefined") return; // a test file in the node environment
  document.cookie.split(";").forEach((part) => {
    const name = part.split("=")[0]?.trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`;
  });
  document.body.replaceChildren();
});
