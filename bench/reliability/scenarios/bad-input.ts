// bad-input.ts: 1,000 requests of garbage (over-long keys, broken escapes, repeated parameters, oversized headers, odd Unicode keys) must each get their 4xx or their value: no 5xx, no crash.
import { keyProblem } from '../../../src/engine/key.js';
import { apiPath, closedLoop, expectStatus, expectValue, latency, Rotation, summarize, type Call } from '../clients.js';
import { startFaultyOrigin } from '../origin.js';
import { startRing } from '../pods.js';
import { cleanLoad, equal, fmt, noErrorLogs, podsHealthy, rowOf, type Scenario } from '../scenario.js';

const CLIENTS = 16;
const REQUESTS = 1000;
const MAX_KEY_BYTES = 2048;

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const between = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo + 1));

/** Code point ranges a key may draw from: controls, ASCII, Latin-1, combining marks, RTL, CJK, specials, noncharacters, emoji. */
const RANGES: readonly [number, number][] = [
  [0x00, 0x1f], [0x20, 0x7e], [0x7f, 0xff], [0x300, 0x36f], [0x590, 0x6ff], [0x4e00, 0x9fff], [0xfeff, 0xfeff], [0xfff0, 0xffff], [0x1f300, 0x1faff], [0x10000, 0x10ffff],
];

function unicodeKey(): string {
  let key = '';
  const length = between(1, 40);
  for (let i = 0; i < length; i++) {
    const [lo, hi] = pick(RANGES);
    key += String.fromCodePoint(between(lo, hi));
  }
  return key;
}

/** Keys that look like paths, escapes or query syntax. */
const TRICKY_KEYS = ['.', '..', '/', '//', 'a/../b', '%', '%25', '%2F', '+', ' ', '  ', '?', '#', '&', '=', '&key=x', 'key', '\\', '\u0000', '\r\n', 'ä', '😀'];

const MALFORMED = ['%', '%z', '%zz', '%2', '%G1', '%C3%28', '%ED%A0%80', '%E0%A4%A', '%FF', '%C0%AF', '%F4%90%80%80'];

type Kind = 'long' | 'malformed' | 'repeated' | 'huge headers' | 'unicode';
const KINDS: readonly Kind[] = ['long', 'malformed', 'repeated', 'huge headers', 'unicode'];

function garbage(kind: Kind, group: string): Call & { want: number } {
  const tag = kind;
  const ascii = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(between(0x61, 0x7a))).join('');
  switch (kind) {
    case 'long': {
      // One in ten sits exactly on the limit and must be served.
      if (Math.random() < 0.1) {
        const key = ascii(MAX_KEY_BYTES);
        return { tag, want: 200, key, path: apiPath(key), check: expectValue(key) };
      }
      const key = Math.random() < 0.5 ? ascii(between(MAX_KEY_BYTES + 1, 6000)) : 'é'.repeat(between(MAX_KEY_BYTES / 2 + 1, 2000));
      return { tag, want: 400, key, path: apiPath(key), check: expectStatus(400) };
    }
    case 'malformed': {
      // Padding without hex digits, so the broken escape cannot turn into a valid one (%2 + 'a').
      const pad = (): string => Array.from({ length: between(0, 8) }, () => String.fromCharCode(between(0x67, 0x7a))).join('');
      const value = `${pad()}${pick(MALFORMED)}${pad()}`;
      const path = Math.random() < 0.8 ? `/api?key=${value}` : `/api?key=${ascii(5)}&group=${value}`;
      return { tag, want: 400, path, check: expectStatus(400) };
    }
    case 'repeated': {
      const a = ascii(between(1, 10));
      const path = pick([`/api?key=${a}&key=${ascii(3)}`, `/api?key=${a}&key=${a}`, `/api?key=${a}&key=`, `/api?key=${a}&group=${group}&group=${group}`, `/api?group=${group}&key=${a}&x=1&key=${a}`]);
      return { tag, want: 400, path, check: expectStatus(400) };
    }
    case 'huge headers': {
      const key = ascii(8);
      // Over node's 16 KiB limit on the request line and headers: one big header, or many small ones.
      const headers: Record<string, string> =
        Math.random() < 0.5 ? { 'x-garbage': ascii(between(17 * 1024, 64 * 1024)) } : Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-junk-${i}`, ascii(100)]));
      return { tag, want: 431, key, path: apiPath(key), headers, check: expectStatus(431) };
    }
    case 'unicode': {
      const key = Math.random() < 0.15 ? pick(TRICKY_KEYS) : unicodeKey();
      // A key with a control character is refused wherever it enters (src/engine/key.ts); every other key is a value.
      if (keyProblem(key) !== undefined) return { tag, want: 400, key, path: apiPath(key), check: expectStatus(400) };
      return { tag, want: 200, key, path: apiPath(key), check: expectValue(key) };
    }
  }
}

export const badInput: Scenario = {
  id: 'bad-input',
  title: '8. bad input',
  injected: `${fmt(REQUESTS)} requests of garbage from ${CLIENTS} clients over 3 pods: keys over ${MAX_KEY_BYTES} bytes, malformed percent-encoding, repeated parameters, headers over 16 KiB, random Unicode keys, those with a control character refused (a fifth each)`,
  async run() {
    const origin = await startFaultyOrigin();
    const ring = await startRing({ name: 'garbage', pods: 3, groups: `rel:64MiB:${origin.url}` });
    try {
      const rotation = new Rotation(ring.pods);
      const calls = Array.from({ length: REQUESTS }, (_, i) => garbage(KINDS[i % KINDS.length]!, 'rel'));
      let next = 0;
      const samples = await closedLoop({
        clients: CLIENTS,
        durationMs: 60_000,
        maxRequests: REQUESTS,
        pick: () => rotation.pick(),
        next: () => calls[next++]!,
      });
      const summary = summarize(samples);
      const fiveHundreds = samples.filter((s) => (s.status ?? 0) >= 500).length;
      const byKind = KINDS.map((kind) => {
        const sent = samples.filter((s) => s.tag === kind);
        const bad = summarize(sent);
        const wants = [...new Set(calls.filter((c) => c.tag === kind).map((c) => c.want))].sort((x, y) => y - x).join(' or ');
        return `${kind}: ${sent.length} requests, want ${wants}${bad.failed + bad.wrong > 0 ? ` (${bad.failed} failed, ${bad.wrong} wrong)` : ''}`;
      });
      const logs = noErrorLogs(ring.pods);
      return {
        ...rowOf(summary, latency(samples)),
        notes: [byKind.join(', '), `statuses answered: ${statuses(samples)}`, `5xx ${fiveHundreds}`],
        checks: [
          ...cleanLoad(summary),
          equal('requests sent', summary.requests, REQUESTS),
          equal('5xx answers', fiveHundreds, 0),
          ...(await podsHealthy(ring.pods)),
          logs.check,
        ],
        evidence: [...logs.evidence, ...summary.examples],
      };
    } finally {
      await ring.close();
      await origin.close();
    }
  },
};

function statuses(samples: readonly { status?: number; outcome: string }[]): string {
  const counts = new Map<string, number>();
  for (const s of samples) {
    const label = s.status !== undefined ? String(s.status) : s.outcome;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  return [...counts].sort().map(([label, n]) => `${label} ×${n}`).join(', ');
}
