import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseApiQuery } from '../../src/http/query.js';

test('reads key and group, ignoring other parameters', () => {
  assert.deepEqual(parseApiQuery('key=Tom'), { ok: true, key: 'Tom', group: undefined });
  assert.deepEqual(parseApiQuery('x=1&group=scores&key=Sam&y'), { ok: true, key: 'Sam', group: 'scores' });
  assert.deepEqual(parseApiQuery(''), { ok: true, key: undefined, group: undefined });
  assert.deepEqual(parseApiQuery('key'), { ok: true, key: '', group: undefined });
  assert.deepEqual(parseApiQuery('keys=1&mykey=2'), { ok: true, key: undefined, group: undefined });
});

test('decodes form encoding the way URLSearchParams does', () => {
  for (const raw of ['a+b', 'a%20b', '%E6%97%A5%E6%9C%AC', 'a%2Fb%3Dc%26d', '100%25', 'x=y']) {
    const expected = new URLSearchParams(`key=${raw}`).get('key');
    assert.deepEqual(parseApiQuery(`key=${raw}`), { ok: true, key: expected, group: undefined }, raw);
  }
});

test('a repeated parameter or a malformed escape is an error', () => {
  assert.deepEqual(parseApiQuery('key=a&key=b'), { ok: false, message: 'give key and group at most once each' });
  assert.deepEqual(parseApiQuery('group=a&key=k&group=b'), { ok: false, message: 'give key and group at most once each' });
  assert.deepEqual(parseApiQuery('key=%E0%A4%A'), { ok: false, message: 'malformed percent-encoding in key' });
});

test('from reads the query string inside a whole URL, the same as the cut-out string', () => {
  for (const url of ['/api?key=Tom', '/api?x=1&group=scores&key=Sam&y', '/api?', '/api?key=a&key=b', '/api?key=a%2Fb']) {
    const at = url.indexOf('?') + 1;
    assert.deepEqual(parseApiQuery(url, at), parseApiQuery(url.slice(at)), url);
  }
  assert.deepEqual(parseApiQuery('/api', 4), { ok: true, key: undefined, group: undefined });
});

test('agrees with URLSearchParams on random query strings', () => {
  const alphabet = ['key', 'group', 'k', '=', '=', '&', '&', '%41', '%', '+', 'a', 'b', '%2B'];
  let seed = 7;
  const random = (n: number) => {
    // Math.imul keeps the product in 32 bits: a plain multiply passes 2^53 and loses low bits.
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 5000; i++) {
    let query = '';
    for (let j = random(10); j > 0; j--) query += alphabet[random(alphabet.length)];
    const params = new URLSearchParams(query);
    const parsed = parseApiQuery(query);
    if (parsed.ok) {
      assert.deepEqual(parsed, { ok: true, key: params.get('key') ?? undefined, group: params.get('group') ?? undefined }, query);
    } else if (parsed.message.startsWith('give')) {
      assert.ok(params.getAll('key').length > 1 || params.getAll('group').length > 1, query);
    } else {
      assert.match(query, /%/, query);
    }
  }
});
