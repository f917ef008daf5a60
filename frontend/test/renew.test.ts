// A new window without a reload (issue 12): DFSignals.renew() after a refusal for good.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient } from "../src/client";
import { CloseCode } from "../src/wire.generated";
import { FakeSocket, flushPromises, takeConsole } from "./helpers";

const OLD = "ws://testserver/ws/?dfwskey=old%3Asig";
const NEW = "ws://testserver/ws/?dfwskey=new%3Asig";

function setUrlCookie(url: string): void {
  document.cookie = `dfwsurl=${encodeURIComponent(url)}; path=/`;
}

function refusedClient() {
  FakeSocket.instances = [];
  setUrlCookie(OLD);
  const client = createClient();
  client.api.connectSocket(OLD, FakeSocket);
  const socket = FakeSocket.latest();
  socket.open();
  socket.drop(CloseCode.SESSION_ENDED);
  expect(client.api.state).toBe("closed");
  expect(takeConsole("warn").length).toBe(1); // the refusal is said once
  return client;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("renew", () => {
  it("fetches the page again with the old key and reconnects with the key the server set", async () => {
    const client = refusedClient();
    const fetch = vi.fn(async () => {
      setUrlCookie(NEW); // what the response's Set-Cookie does
      return { ok: true, redirected: false, status: 200 } as Response;
    });
    vi.stubGlobal("fetch", fetch);
    const renewed = client.api.renew();
    await flushPromises();
    expect(await renewed).toBe(true);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe(globalThis.location.href);
    expect(init.headers).toEqual({ "X-Requested-With": "XMLHttpRequest", "X-Dfws-Key": "old:sig" });
    expect(FakeSocket.latest().url).toBe(NEW);
    expect(client.api.state).toBe("connecting");
  });

  it("says false when the view redirected, failed or set no new key", async () => {
    for (const answer of [
      { ok: true, redirected: true, status: 200 },
      { ok: false, redirected: false, status: 500 },
      { ok: true, redirected: false, status: 200 },
    ]) {
      const client = refusedClient();
      vi.stubGlobal("fetch", vi.fn(async () => answer as Response));
      expect(await client.api.renew()).toBe(false);
      expect(client.api.state).toBe("closed");
    }
  });

  it("says false when the request fails", async () => {
    const client = refusedClient();
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("offline"))));
    expect(await client.api.renew()).toBe(false);
    expect(takeConsole("warn")[0]?.[1]).toBe("could not ask the server for a new window:");
  });
});
