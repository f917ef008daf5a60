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

document.addEventListener("DOMContentLoaded", () => {
  DFSignals.call("demo.hello", { sent: performance.now() }).catch(() => {});
});
