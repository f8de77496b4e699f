// code-getter-pod.ts is a pod whose groups load from a getter written in code (every key's value is 8 bytes of
// 'v'), read from the same environment as main.ts: a cache that fills as fast as misses can be answered, with
// no origin round trip per key. The bench's full-cache case fills a million entries through it.
import { pino } from 'pino';
import { CacheNode } from '../../src/cache-node.js';
import { loadConfig } from '../../src/config.js';

const VALUE = 'vvvvvvvv';
const config = loadConfig(process.env, process.argv.slice(2));
const getters = new Map(config.groups.map((group) => [group.name, () => Promise.resolve(VALUE)]));
const node = new CacheNode({ config, logger: pino({ level: 'warn' }), getters });
await node.start();
process.once('SIGTERM', () => void node.close().then(() => process.exit(0)));
