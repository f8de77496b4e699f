// peer-url.ts holds the rules for peer base URLs and peer lists, the one place each is written down.

/** How peers speak: plain HTTP, or HTTPS with mutual TLS (GEECACHE_PEER_TLS_DIR). */
export type PeerScheme = 'http' | 'https';

/** `http://10.0.0.5:8001`, `https://[fd00::1]:8001`; a DNS name is used as it is. */
export function peerUrl(host: string, port: number, scheme: PeerScheme = 'http'): string {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${bracketed}:${port}`;
}

/** The scheme of a peer base URL: every pod of a ring uses its own URL's, so all agree on each peer's URL. */
export function schemeOf(url: string): PeerScheme {
  return url.startsWith('https:') ? 'https' : 'http';
}

/**
 * Why `url` is not a peer base URL (http or https, a host and port, no path, query or trailing
 * slash), or undefined when it is one. Peers are compared as strings, so the form must be exact.
 */
export function peerUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) return 'is not a URL';
  const parsed = new URL(url);
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== url) {
    return 'must be a base URL like http://10.0.0.5:8001 (scheme, host and port; no path)';
  }
  return undefined;
}

/** Returns `url` if it is a peer base URL, else throws a TypeError saying what is wrong. */
export function validatePeerUrl(url: string): string {
  const problem = peerUrlProblem(url);
  if (problem !== undefined) throw new TypeError(`peer URL ${JSON.stringify(url)} ${problem}`);
  return url;
}

/** A peer URL as people write it in configuration, trailing slashes dropped (`http://a:8001/` → `http://a:8001`). */
export function trimPeerUrl(text: string): string {
  return text.trim().replace(/\/+$/, '');
}

/** Sorts and de-duplicates peer URLs: the canonical form every peer list takes. */
export function canonicalPeers(peers: Iterable<string>): string[] {
  return [...new Set(peers)].sort();
}

/** True when two canonical peer lists are equal. */
export function samePeers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((peer, i) => peer === b[i]);
}

/** Whether a listener bound to `bind` listens on every address (then it has no one address to be reached at, or to send from). */
export function isWildcardAddress(bind: string): boolean {
  return bind === '0.0.0.0' || bind === '::';
}
