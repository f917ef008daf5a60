import { describe, expect, it } from "vitest";
import { decodeCookieValue, readCookie, socketUrlFromCookies } from "../src/cookie";

const PAGE = "https://shop.example/cart/";

describe("dfwsurl cookie", () => {
  it("reads the named cookie among others", () => {
    expect(readCookie("a=1; dfwsurl=ws%3A%2F%2Fh%2Fws%2F; dfwskey=k", "dfwsurl")).toBe("ws%3A%2F%2Fh%2Fws%2F");
    expect(readCookie("xdfwsurl=1", "dfwsurl")).toBeNull();
  });

  it("decodes a URL-encoded value", () => {
    expect(socketUrlFromCookies("dfwsurl=wss%3A%2F%2Fshop.example%2Fws%2F%3Fk%3D1", PAGE)).toBe(
      "wss://shop.example/ws/?k=1",
    );
  });

  it("strips the double quotes and backslash escapes added by Django", () => {
    expect(decodeCookieValue('"ws://h/ws/a\\054b"')).toBe("ws://h/ws/a,b");
    expect(socketUrlFromCookies('dfwsurl="wss%3A//shop.example/ws/"', PAGE)).toBe("wss://shop.example/ws/");
  });

  it("makes a path absolute with the page's scheme turned into ws or wss", () => {
    expect(socketUrlFromCookies("dfwsurl=%2Fws%2F", PAGE)).toBe("wss://shop.example/ws/");
    expect(socketUrlFromCookies("dfwsurl=/ws/", "http://localhost:8000/")).toBe("ws://localhost:8000/ws/");
  });

  it("gives no URL without the cookie or with an unusable one", () => {
    expect(socketUrlFromCookies("dfwskey=abc", PAGE)).toBeNull();
    expect(socketUrlFromCookies("dfwsurl=", PAGE)).toBeNull();
    expect(socketUrlFromCookies("dfwsurl=ftp%3A%2F%2Fh%2F", PAGE)).toBeNull();
  });
});
