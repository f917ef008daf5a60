// @vitest-environment node
// The committed df_websockets.min.js (what ships), run as a page runs it: in a fresh window
// each time; it must be what the sources build.
import { readFile } from "node:fs/promises";
import { CookieJar, JSDOM } from "jsdom";
import { beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_NAME, buildBundle } from "../build.mjs";
import { takeConsole } from "./helpers";

let bundle: { js: string; map: string };

beforeAll(async () => {
  const committed = (name: string): Promise<string> =>
    readFile(new URL(`../../dfws_web/static/js/${name}`, import.meta.url), "utf8");
  bundle = { js: await committed(BUNDLE_NAME), map: await committed(`${BUNDLE_NAME}.map`) };
});

/** Plays the server; events are plain objects since only their fields are read. */
class ServerSide {
  static last: ServerSide | undefined;
  readyState = 0;
  sent: string[] = [];
  onopen: ((e: object) => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  onerror: ((e: object) => void) | null = null;
  constructor(readonly url: string) {
    ServerSide.last = this;
  }
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(frame: object): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

function page(body: string, cookie?: string): JSDOM {
  const url = "http://shop.test/cart/";
  const cookieJar = new CookieJar();
  if (cookie) cookieJar.setCookieSync(cookie, url);
  ServerSide.last = undefined;
  return new JSDOM(`<!DOCTYPE html><html><head><script>${bundle.js}</script></head><body>${body}</body></html>`, {
    url,
    cookieJar,
    runScripts: "dangerously",
    beforeParse(window) {
      (window as unknown as { WebSocket: unknown }).WebSocket = ServerSide;
    },
  });
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("the bundle", () => {
  it("is what the sources build (else: npm run build), with relative source paths", async () => {
    const fresh = await buildBundle();
    const same = fresh.js === bundle.js && fresh.map === bundle.map; // no 100 kB diff printed
    expect(same, "dfws_web/static/js is stale: cd frontend && npm run build").toBe(true);
    const map = JSON.parse(bundle.map) as { sources: string[] };
    expect(map.sources).toContain("src/index.ts");
    expect(map.sources.every((source) => source.startsWith("src/"))).toBe(true);
    expect(bundle.js.trimEnd().endsWith("//# sourceMappingURL=df_websockets.min.js.map")).toBe(true);
  });

  it("defines window.DFSignals and no other global", () => {
    const dom = new JSDOM("<!DOCTYPE html><body></body>", { runScripts: "outside-only" });
    const before = new Set(Object.getOwnPropertyNames(dom.window));
    dom.window.eval(bundle.js);
    const added = Object.getOwnPropertyNames(dom.window).filter((name) => !before.has(name));
    expect(added).toEqual(["DFSignals"]);
  });

  it("connects to the cookie's URL, binds the page and applies server signals", async () => {
    const dom = page(
      `<div id="cart"><button data-df-signal='[{"name": "cart.refresh", "opts": {"id": 3}}]'>refresh</button></div>`,
      "dfwsurl=wss%3A%2F%2Fshop.test%2Fws%2F",
    );
    await tick(); // DOMContentLoaded
    const socket = ServerSide.last;
    expect(socket?.url).toBe("wss://shop.test/ws/");
    socket?.open();
    dom.window.document.querySelector("button")?.click();
    await tick();
    const call = JSON.parse(socket?.sent[0] ?? "{}");
    expect(call).toMatchObject({ signal: "cart.refresh", opts: { id: 3 } });
    socket?.receive({
      signal: "html.content",
      opts: { selector: "#cart", content: `<b>updated</b>` },
      signal_id: "s1",
    });
    expect(dom.window.document.getElementById("cart")?.innerHTML).toBe("<b>updated</b>");
    dom.window.close();
  });

  it("does not bind data-df-signal in HTML a signal inserted, unless bindInsertedContent", async () => {
    const dom = page(`<div id="cart"></div>`, "dfwsurl=wss%3A%2F%2Fshop.test%2Fws%2F");
    await tick();
    const socket = ServerSide.last;
    socket?.open();
    const doc = dom.window.document;
    const insert = (id: string, name: string, signalId: string): void =>
      socket?.receive({
        signal: "html.append",
        opts: { selector: "#cart", content: `<a id="${id}" data-df-signal='[{"name": "${name}"}]'>more</a>` },
        signal_id: signalId,
      });
    insert("injected", "cart.injected", "s1");
    await tick(); // the mutation observer
    doc.getElementById("injected")?.click();
    await tick();
    expect(socket?.sent).toEqual([]);

    const api = (dom.window as unknown as { DFSignals: { options: { bindInsertedContent: boolean } } }).DFSignals;
    api.options.bindInsertedContent = true; // as a project's own script would
    insert("allowed", "cart.allowed", "s2");
    await tick();
    doc.getElementById("allowed")?.click();
    doc.getElementById("injected")?.click();
    await tick();
    expect(socket?.sent.map((text) => JSON.parse(text).signal)).toEqual(["cart.allowed"]);
    dom.window.close();
  });

  it("refuses an html.download_file to a javascript: URL: no script runs", async () => {
    const dom = page(`<p></p>`, "dfwsurl=wss%3A%2F%2Fshop.test%2Fws%2F");
    await tick();
    const socket = ServerSide.last;
    socket?.open();
    socket?.receive({
      signal: "html.download_file",
      opts: { url: "javascript:window.pwned=1", filename: "x.txt" },
      signal_id: "s1",
    });
    await tick(); // a javascript: navigation runs its script in a task
    await tick();
    expect((dom.window as unknown as { pwned?: number }).pwned).toBeUndefined();
    expect(takeConsole("warn").map((args) => args.join(" "))).toEqual([
      `[dfws] dfws signal 'html.download_file' refused the URL "javascript:window.pwned=1": only http(s) and relative URLs are followed`,
    ]);
    dom.window.close();
  });

  it("stays local without a dfwsurl cookie", async () => {
    const dom = page(`<p id="x"></p>`);
    await tick();
    expect(ServerSide.last).toBeUndefined();
    const api = (dom.window as unknown as { DFSignals: { call(n: string, o: object): Promise<unknown> } }).DFSignals;
    await expect(api.call("html.text", { selector: "#x", content: "local" })).resolves.toEqual([]);
    expect(dom.window.document.getElementById("x")?.textContent).toBe("local");
    dom.window.close();
  });
});
