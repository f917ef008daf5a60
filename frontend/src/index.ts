/**
 * Entry point of `df_websockets.min.js`: installs `window.DFSignals` and, once
 * the page is parsed, binds `data-df-signal` elements and opens the websocket.
 */
import type { BindingError, BindingProgress, BindingResult } from "./bindings";
import { createClient, type DFSignalsApi } from "./client";
import type { ClientEventMap } from "./events";

declare global {
  interface Window {
    DFSignals: DFSignalsApi;
  }
  /** What a `data-df-signal` binding dispatches on its element: `event.detail` is typed. */
  interface HTMLElementEventMap {
    "dfws:result": CustomEvent<BindingResult>;
    "dfws:progress": CustomEvent<BindingProgress>;
    "dfws:error": CustomEvent<BindingError>;
  }
  /** The connection's events, also dispatched on `document`. */
  interface DocumentEventMap {
    "dfws:open": CustomEvent<ClientEventMap["open"]>;
    "dfws:close": CustomEvent<ClientEventMap["close"]>;
    "dfws:recovered": CustomEvent<ClientEventMap["recovered"]>;
    "dfws:resync": CustomEvent<ClientEventMap["resync"]>;
  }
}

export type { Binding, BindingError, BindingProgress, BindingResult } from "./bindings";
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
