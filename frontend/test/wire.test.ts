import { describe, expect, expectTypeOf, it } from "vitest";
import {
  CloseCode,
  HEARTBEAT,
  REFUSAL_CLOSE_CODES,
  SERVER_ERROR_TYPES,
  type ErrorBody,
  type ServerErrorType,
} from "../src/wire.generated";

// wire.generated.ts is generated from dfws_celery/wire.py and dfws_celery/errors.py
describe("the generated wire module", () => {
  it("names the heartbeat and the server's close codes", () => {
    expect(HEARTBEAT).toBe("--heartbeat--");
    expect(CloseCode).toEqual({
      SESSION_ENDED: 4001,
      FORGED_KEY: 4003,
      UNKNOWN_WINDOW: 4004,
      TOO_MANY_REFUSALS: 4008,
      TOO_MANY_SOCKETS: 4029,
    });
    expect([...REFUSAL_CLOSE_CODES].sort()).toEqual([4001, 4003, 4004, 4008, 4029]);
    expect(REFUSAL_CLOSE_CODES.has(4002)).toBe(false);
  });

  it("lists every server error type once", () => {
    expect(SERVER_ERROR_TYPES).toContain("rate_limited");
    expect(SERVER_ERROR_TYPES).toContain("bad_frame");
    expect(new Set(SERVER_ERROR_TYPES).size).toBe(SERVER_ERROR_TYPES.length);
    expectTypeOf<"rate_limited">().toExtend<ServerErrorType>();
    expectTypeOf<"timeout">().not.toExtend<ServerErrorType>();
  });

  it("types the error body of a frame", () => {
    expectTypeOf<ErrorBody>().toEqualTypeOf<{ type: string; message: string; argument?: string; exception?: string }>();
  });
});
