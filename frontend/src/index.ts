/**
 * Entry point of `df_websockets.min.js`: installs `window.DFSignals` and, once
 * the page is parsed, binds `data-df-signal` elements and opens the websocket.
 */
import { createClient, type DFSignalsApi } from "./client";

declare global {
  interface Window {
    DFSignals: DFSignalsApi;
  }
}

export type { CallOptions, DFSignalsApi } from "./client";

function install(win: Window): void {
  if (win.DFSignals !== undefined) {
    console.warn("[dfws] df_websockets.min.js is included twice; keeping the first DFSignals");
    return;
  }
  const client = createClient();
  win.DFSignals = client.api;
  const doc = win.document;
  if (doc.readyState === "loading") {
    doc.addEventListener("DOMContentLoaded", () => client.start(doc), { once: true });
  } else {
    client.start(doc);
  }
}

install(window);
