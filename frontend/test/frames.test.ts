import { describe, expect, it } from "vitest";
import { decodeServerFrame } from "../src/frames";

const decode = (frame: unknown): ReturnType<typeof decodeServerFrame> => decodeServerFrame(JSON.stringify(frame));

describe("decodeServerFrame", () => {
  it("reads a signal for this window", () => {
    expect(decode({ signal: "a.b", opts: { x: 1 }, signal_id: "s1" })).toEqual({
      kind: "signal",
      signal: "a.b",
      opts: { x: 1 },
      signalId: "s1",
    });
  });

  it("reads an ack with its handlers and the server's timeout", () => {
    expect(decode({ call_id: "c", ack: { handlers: ["t.1", "t.2"], timeout: 30 } })).toEqual({
      kind: "ack",
      callId: "c",
      handlers: ["t.1", "t.2"],
      timeoutS: 30,
      error: undefined,
      queues: {},
    });
  });

  it("reads the queue of each handler from an ack, dropping what is malformed", () => {
    const queues = {
      "t.1": { queue: "slow", consumer: false },
      "t.2": { queue: "celery", consumer: "yes" },
      "t.3": { queue: 7 },
      "t.4": "celery",
    };
    expect(decode({ call_id: "c", ack: { handlers: ["t.1"], queues } })).toMatchObject({
      queues: { "t.1": { queue: "slow", consumer: false }, "t.2": { queue: "celery", consumer: null } },
    });
  });

  it("reads a refusal as an ack without handlers and with its error", () => {
    expect(decode({ call_id: "c", ack: { handlers: [] }, error: { type: "forbidden", message: "no" } })).toMatchObject({
      kind: "ack",
      handlers: [],
      error: { type: "forbidden", message: "no" },
    });
  });

  it("reads results, errors and progress of a handler", () => {
    expect(decode({ call_id: "c", handler: "t.1", result: null })).toEqual({
      kind: "result",
      callId: "c",
      handler: "t.1",
      result: null,
    });
    expect(decode({ call_id: "c", handler: "t.1", error: { type: "invalid", message: "m", argument: "email" } })).toEqual({
      kind: "error",
      callId: "c",
      handler: "t.1",
      error: { type: "invalid", message: "m", argument: "email" },
    });
    expect(decode({ call_id: "c", handler: "t.1", progress: { fraction: 0.5, message: "half" } })).toEqual({
      kind: "progress",
      callId: "c",
      handler: "t.1",
      fraction: 0.5,
      message: "half",
    });
  });

  it("reads an error without call_id as a frame-level error", () => {
    expect(decode({ error: { type: "bad_frame", message: "m" } })).toEqual({
      kind: "frame_error",
      error: { type: "bad_frame", message: "m" },
    });
  });

  it("explains what it cannot read", () => {
    expect(decodeServerFrame("{")).toBe("not JSON");
    expect(decode([1])).toBe("not a JSON object");
    expect(decode({ hello: 1 })).toBe("neither a signal, a call reply, an error nor a recovery report");
    expect(decode({ call_id: "c", ack: "yes" })).toBe("call reply without a valid ack or progress");
  });
});
