// query.ts reads the two parameters of GET /api from a raw query string, without building a whole object.

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
  let start = from;
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    const eq = query.indexOf('=', start);
    const nameEnd = eq === -1 || eq > end ? end : eq;
    // Compare the name in place: slicing it out would allocate a string per parameter.
    const name = nameEnd - start === 3 && query.startsWith('key', start) ? 'key' : nameEnd - start === 5 && query.startsWith('group', start) ? 'group' : undefined;
    if (name !== undefined) {
      const raw = nameEnd === end ? '' : query.slice(nameEnd + 1, end);
      const value = decodeFormValue(raw);
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

function decodeFormValue(raw: string): string | undefined {
  // Most keys need no decoding; skip the replace and decode for them.
  if (raw.indexOf('%') === -1 && raw.indexOf('+') === -1) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
