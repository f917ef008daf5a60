/** Name of the cookie in which the server puts the websocket URL of the window. */
export const URL_COOKIE = "dfwsurl";

/** The raw value of cookie `name` in a `document.cookie` string, or null. */
export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(";")) {
    const eq = part.indexOf("=");
    if (eq >= 0 && part.slice(0, eq).trim() === name) {
      return part.slice(eq + 1).trim();
    }
  }
  return null;
}

/**
 * Decode a cookie value written by Django: Python's cookie module may wrap it
 * in double quotes with backslash escapes (`\054` for a comma), and the URL
 * itself is percent-encoded.
 */
export function decodeCookieValue(raw: string): string {
  let value = raw;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value
      .slice(1, -1)
      .replace(/\\([0-3][0-7]{2}|.)/g, (_, esc: string) =>
        esc.length === 3 ? String.fromCharCode(parseInt(esc, 8)) : esc,
      );
  }
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The websocket URL announced by the server, made absolute against `base`
 * (an `http(s)` URL becomes `ws(s)`), or null without a usable cookie.
 */
export function socketUrlFromCookies(cookies: string, base: string): string | null {
  const raw = readCookie(cookies, URL_COOKIE);
  if (raw === null) return null;
  return absoluteSocketUrl(decodeCookieValue(raw), base);
}

export function absoluteSocketUrl(value: string, base: string): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return null;
  }
  if (url.protocol === "http:") url.protocol = "ws:";
  else if (url.protocol === "https:") url.protocol = "wss:";
  if (url.protocol !== "ws:" && url.protocol !== "wss:") return null;
  return url.href;
}
