// compact-store.model.test.ts runs random operation sequences against the compact store and a Map-based model of an LRU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CompactStore, ENTRY_OVERHEAD_BYTES } from '../../../src/engine/store/compact-store.js';
import type { ByteView } from '../../../src/engine/byteview.js';

/** Small segments so that sequences of a few hundred operations seal, compact and drop them. */
const SEGMENT_BYTES = 1024;
const MAX_BYTES = 24 * 1024;

/** Keys of every UTF-8 length class, the empty key and 2048-byte keys, few enough to collide often. */
const keyArb = fc.oneof(
  fc.constantFrom('', 'a', 'b', 'é', 'ü', '日', '本', '🔑', '😀x', 'k'.repeat(2048), `${'日'.repeat(682)}ab`, 'mixed é日🔑'),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.integer({ min: 0, max: 300 }).map((i) => `key-${i}`),
);
/** Values of 0, 1, 3, 100 bytes, 8 KiB and over a segment. */
const sizeArb = fc.constantFrom(0, 1, 3, 100, 100, 3, 8192, SEGMENT_BYTES + 100, 3, 1, 100);

type Op =
  | { op: 'set'; key: string; size: number; fill: number; ttl: number }
  | { op: 'get' | 'peek' | 'delete'; key: string }
  | { op: 'removeOldest' | 'iterate' | 'clear' }
  | { op: 'tick'; ms: number };

const opsOf = (keys: fc.Arbitrary<string>, sizes: fc.Arbitrary<number>, clears: number): fc.Arbitrary<Op[]> =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key: keys, size: sizes, fill: fc.integer({ min: 0, max: 255 }), ttl: fc.constantFrom(0, 0, 50, 500) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constantFrom('get' as const, 'peek' as const, 'delete' as const), key: keys }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('removeOldest' as const, 'iterate' as const) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 300 }) }) },
      { weight: clears, arbitrary: fc.constant({ op: 'clear' as const }) },
    ),
    { maxLength: 600, size: 'max' },
  );

interface ModelEntry {
  value: Uint8Array;
  expiresAt: number;
}

const entrySize = (key: string, value: Uint8Array) => Buffer.byteLength(key, 'utf8') + value.byteLength + ENTRY_OVERHEAD_BYTES;
/** Lone surrogates are one key with U+FFFD, as in UTF-8. */
const normal = (key: string) => Buffer.from(key, 'utf8').toString('utf8');

/** Runs `ops` against a store and the model, checking them after every operation; returns the store's compactions. */
function agreesWithModel(ops: Op[]): number {
  let now = 1_000_000;
  const store = new CompactStore(MAX_BYTES, { clock: () => now, segmentBytes: SEGMENT_BYTES });
  /** Least recently used first: a get deletes and re-inserts. */
  const model = new Map<string, ModelEntry>();
  let modelBytes = 0;
  let evictions = 0;
  let unexpired = 0;
  const held: [ByteView, Uint8Array][] = [];

  const evictModelOldest = () => {
    const [key, entry] = model.entries().next().value!;
    model.delete(key);
    modelBytes -= entrySize(key, entry.value);
    evictions++;
    if (entry.expiresAt !== 0 && entry.expiresAt > now) unexpired++;
  };
  const hold = (view: ByteView | undefined, entry: ModelEntry | undefined) => {
    assert.equal(view === undefined, entry === undefined);
    if (view === undefined || entry === undefined) return;
    assert.ok(view.equals(entry.value));
    assert.equal(view.expiresAt, entry.expiresAt);
    if (held.length < 16) held.push([view, entry.value]);
  };

  for (const step of ops) {
    switch (step.op) {
      case 'set': {
        const key = normal(step.key);
        const value = new Uint8Array(step.size).fill(step.fill);
        const expiresAt = step.ttl === 0 ? 0 : now + step.ttl;
        const size = entrySize(key, value);
        const stored = store.set(step.key, value, expiresAt);
        assert.equal(stored, size <= MAX_BYTES);
        if (!stored) break;
        const old = model.get(key);
        if (old) {
          model.delete(key);
          modelBytes -= entrySize(key, old.value);
        }
        while (modelBytes + size > MAX_BYTES) evictModelOldest();
        model.set(key, { value, expiresAt });
        modelBytes += size;
        value.fill(step.fill ^ 1); // the store kept a copy
        model.get(key)!.value = new Uint8Array(step.size).fill(step.fill);
        break;
      }
      case 'get': {
        const key = normal(step.key);
        const entry = model.get(key);
        if (entry) {
          model.delete(key);
          model.set(key, entry);
        }
        hold(store.get(step.key), entry);
        break;
      }
      case 'peek':
        hold(store.peek(step.key), model.get(normal(step.key)));
        break;
      case 'delete': {
        const key = normal(step.key);
        const entry = model.get(key);
        if (entry) modelBytes -= entrySize(key, entry.value);
        assert.equal(store.delete(step.key), model.delete(key));
        break;
      }
      case 'removeOldest':
        assert.equal(store.removeOldest(), model.size > 0);
        if (model.size > 0) evictModelOldest();
        break;
      case 'iterate': {
        const expected = [...model].reverse();
        const actual = [...store.entries()];
        assert.deepEqual(
          actual.map(([key]) => key),
          expected.map(([key]) => key),
        );
        actual.forEach(([, view], i) => assert.ok(view.equals(expected[i]![1].value)));
        break;
      }
      case 'tick':
        now += step.ms;
        break;
      case 'clear':
        store.clear();
        model.clear();
        modelBytes = 0;
        break;
    }
    assert.equal(store.items, model.size, `items after ${step.op}`);
    assert.equal(store.bytes, modelBytes, `bytes after ${step.op}`);
    assert.ok(store.bytes <= MAX_BYTES);
    assert.deepEqual(store.keys(), [...model.keys()].reverse());
    const { stats, footprint } = { stats: store.stats(), footprint: store.footprint() };
    assert.equal(stats.evictions, evictions);
    assert.equal(stats.unexpiredEvictions, unexpired);
    assert.ok(footprint.segmentBytes <= footprint.liveBytes * (9 / 8) + 2 * SEGMENT_BYTES, `held ${footprint.segmentBytes} for live ${footprint.liveBytes}`);
    for (const [view, bytes] of held) assert.ok(view.equals(bytes), 'a view handed out still reads its bytes');
  }
  return store.footprint().compactions;
}

test('random sequences of operations on keys of every UTF-8 class and values of every size agree with a Map-based LRU', () => {
  fc.assert(
    fc.property(opsOf(keyArb, sizeArb, 1), (ops) => void agreesWithModel(ops)),
    { numRuns: 150 },
  );
});

test('churn of small values over many keys compacts segments, and views handed out before still read their bytes', () => {
  let compactions = 0;
  const keys = fc.integer({ min: 0, max: 199 }).map((i) => `key-${i}`);
  fc.assert(
    fc.property(opsOf(keys, fc.constantFrom(0, 1, 3, 40, 100), 0), (ops) => {
      compactions += agreesWithModel(ops);
    }),
    { numRuns: 60 },
  );
  assert.ok(compactions > 0, 'the sequences compacted segments');
});
