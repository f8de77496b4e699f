// path-segment.ts writes a key (or a group name) as exactly one URL path segment, for the peer path and the origin's.

/**
 * encodeURIComponent, except that a segment of only `.` or `..` is written `%2E` / `%2E%2E`:
 * encodeURIComponent leaves dots alone, and a server (or Go's ServeMux, or a proxy) resolves a
 * literal `..` to the parent path, so key `..` would ask the origin for another resource.
 */
export function pathSegment(text: string): string {
  if (text === '.' || text === '..') return text.replaceAll('.', '%2E');
  return encodeURIComponent(text);
}
