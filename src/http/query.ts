// query.ts reads request URLs: the path apart from the query, and the two parameters of /api read from the
// raw query string without building a whole object.

/** Where the query string of a request URL starts (just past its '?'), or the URL's length when it has none. */
export function queryStart(url: string): number {
  const at = url.indexOf('?');
  return at === -1 ? url.length : at + 1;
}

/** A request URL's path, its query cut off. */
export function pathOf(url: string): string {
  const at = url.indexOf('?');
  return at === -1 ? url : url.slice(0, at);
}

/** `key` and `group` from a whole request URL (parseApiQuery of its query string, read in place). */
export function parseUrlQuery(url: string): ApiQuery {
  return parseApiQuery(url, queryStart(url));
}

export type ApiQuery =
  | { ok: true; key: string | undefined; group: string | undefined }
  | { ok: false; message: string };

/**
 * Extracts `key` and `group` from a query string (the part after '?'), decoding
 * form encoding ('+' is a space, %XX escapes). Other parameters are ignored.
 * A repeated key or group, or a malformed escape, is an error.
 * With `from`, the query string is `query` from that index on: a whole request
 * URL can be read in place, without cutting its query out first.
 */
export function parseApiQuery(query: string, from = 0): ApiQuery {
  let key: string | undefined;
  let group: string | undefined;
  const length = query.length;
  let start = from;
  while (start <= length) {
    // One scan per parameter finds its end, its first '=' and whether its value needs decoding:
    // a query is a few short parameters, where a loop beats several indexOf calls.
    let end = start;
    let eq = -1;
    let encoded = false;
    for (; end < length; end++) {
      const c = query.charCodeAt(end);
      if (c === AMPERSAND) break;
      if (eq === -1) {
        if (c === EQUALS) eq = end;
      } else if (c === PERCENT || c === PLUS) {
        encoded = true;
      }
    }
    const nameEnd = eq === -1 ? end : eq;
    // Compare the name in place: slicing it out would allocate a string per parameter.
    const name = nameEnd - start === 3 && query.startsWith('key', start) ? 'key' : nameEnd - start === 5 && query.startsWith('group', start) ? 'group' : undefined;
    if (name !== undefined) {
      const raw = eq === -1 ? '' : query.slice(eq + 1, end);
      const value = encoded ? decodeFormValue(raw) : raw;
      if (value === undefined) return { ok: false, message: `malformed percent-encoding in ${name}` };
      if (name === 'key') {
        if (key !== undefined) return { ok: false, message: 'give key and group at most once each' };
        key = value;
      } else {
        if (group !== undefined) return { ok: false, message: 'give key and group at most once each' };
        group = value;
      }
    }
    start = end + 1;
  }
  return { ok: true, key, group };
}

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PERCENT = 0x25;
const PLUS = 0x2b;

/** Form decoding ('+' is a space, then %XX escapes); undefined for a malformed escape. */
function decodeFormValue(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
