// Handlers shared by every page of the demo (loaded after js/df_websockets.min.js).
"use strict";

// The server's answer to "demo.hello": the websocket, a worker and the way back all work.
DFSignals.connect("demo.ready", (opts) => {
  const status = document.getElementById("dfws-status");
  const ms = Math.round(performance.now() - opts.sent);
  status.textContent = `connected; ${opts.worker} answered in ${ms} ms`;
  status.dataset.ready = "1";
});

// Broadcast by the handler of "demo.clock.tick", which beat triggers every 3 seconds.
DFSignals.connect("demo.clock", (opts) => {
  const clock = document.getElementById("clock");
  clock.textContent = opts.time;
  clock.dataset.ticks = String(Number(clock.dataset.ticks || 0) + 1);
});

// Messages sent to this window, its session, its user or everybody (Users & broadcast page).
DFSignals.connect("demo.message", (opts) => {
  const item = document.createElement("li");
  item.className = `message message-${opts.target}`;
  item.textContent = `[${opts.target}] ${opts.sender}: ${opts.text}`;
  document.getElementById("messages").prepend(item);
});

// The connection state in the header, from the client's events (dfws:open, dfws:close...).
function showState(text, title) {
  const badge = document.getElementById("dfws-state");
  if (!badge) return;
  badge.className = `state state-${DFSignals.state}`;
  badge.textContent = text;
  badge.title = title || "";
}
document.addEventListener("dfws:open", (event) => {
  showState("open", event.detail.reconnect ? "reconnected" : "");
});
document.addEventListener("dfws:close", (event) => {
  const { code, reason, willRetry, delayMs } = event.detail;
  if (willRetry) {
    showState("reconnecting…", `closed with code ${code}; next try in ${Math.round(delayMs)} ms`);
  } else {
    // 4001 (session ended), 4003 (key of another session), 4004 (unknown window): ask the
    // server for a new window for this page (its view decides what the browser's session
    // may see now); when it gives none (e.g. a redirect to a login page), reload
    showState(`closed (${reason}): renewing…`, `closed with code ${code}`);
    DFSignals.renew().then((renewed) => {
      if (!renewed) {
        showState(`closed (${reason}): reloading…`, `closed with code ${code}`);
        window.location.reload();
      }
    });
  }
});
// After a reconnect the server replayed what this window missed meanwhile.
document.addEventListener("dfws:recovered", (event) => {
  if (event.detail.frames > 0) showState(`open, ${event.detail.frames} missed signal(s) replayed`);
});
// Signals were lost for good (the history was trimmed or lost): what the page shows may be
// stale, so load it again (a page with a list of its own could reload just that list).
document.addEventListener("dfws:resync", () => {
  showState("signals lost: reloading…");
  setTimeout(() => window.location.reload(), 500);
});

document.addEventListener("DOMContentLoaded", () => {
  DFSignals.call("demo.hello", { sent: performance.now() }).catch(() => {});
});
