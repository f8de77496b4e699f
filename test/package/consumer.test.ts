// consumer.test.ts installs the package as a user would: `npm pack`, `npm install <tarball>` into an empty project,
// a TypeScript file compiled against the published types, and a two-node ring run from it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** This file runs from dist/test/package/. */
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

const CONSUMER = `
import { createServer } from 'node:net';
import { Geecache, NotFoundError, type GeecacheOptions, type NodeStats } from 'geecache';

const freePort = () => new Promise<number>((done) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => done(port));
  });
});
const [a, b] = [await freePort(), await freePort()];
const peers = [\`http://127.0.0.1:\${a}\`, \`http://127.0.0.1:\${b}\`];
const loads: string[] = [];
const options = (port: number): GeecacheOptions => ({
  self: \`http://127.0.0.1:\${port}\`,
  peers,
  peerPort: port,
  httpPort: 0,
  adminToken: 'consumer-test-admin-token',
  groups: [{ name: 'words', getter: async (key: string) => {
    loads.push(key);
    if (key === 'missing') throw new NotFoundError('no such word');
    return \`value of \${key}\`;
  } }],
});
const nodes = [new Geecache(options(a)), new Geecache(options(b))];
await Promise.all(nodes.map((node) => node.start()));
const keys = Array.from({ length: 20 }, (_, i) => \`k\${i}\`);
const values: string[] = [];
for (const node of nodes) for (const key of keys) values.push((await node.group('words').get(key)).toString());
let missing = '';
try { await nodes[0]!.group().get('missing'); } catch (err) { missing = err instanceof NotFoundError ? 'not found' : String(err); }
await nodes[0]!.group('words').set('k1', 'new value');
const afterSet = [(await nodes[0]!.group('words').get('k1')).toString(), (await nodes[1]!.group('words').get('k1')).toString()];
const stats: NodeStats[] = nodes.map((node) => node.stats());
await Promise.all(nodes.map((node) => node.close()));
console.log(JSON.stringify({ values, loads: loads.length, missing, afterSet, peers: stats[0]!.peers.length, peerLoads: stats.map((s) => s.groups.words!.peerLoads) }));
`;

test('the packed package installs into an empty project, compiles against its types, and runs a two-node ring', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geecache-consumer-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // The suite has built dist/ already: pack it as it is.
  await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], { cwd: root });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack made a tarball');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // Dependencies come from the npm cache, or the registry when it lacks them.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball)], { cwd: dir, timeout: 180_000 });
  writeFileSync(join(dir, 'consumer.ts'), CONSUMER);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, skipLibCheck: false,
        // @types/node is the consumer's own dependency in real life; here, this repository's.
        typeRoots: [join(root, 'node_modules', '@types')], types: ['node'],
      },
      files: ['consumer.ts'],
    }),
  );
  await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]).catch((err: { stdout?: string }) => {
    throw new Error(`the consumer does not compile against the published types:\n${err.stdout ?? ''}`);
  });
  const { stdout } = await run(process.execPath, [join(dir, 'consumer.js')], { cwd: dir, timeout: 60_000 });
  const result = JSON.parse(stdout) as { values: string[]; loads: number; missing: string; afterSet: string[]; peers: number; peerLoads: number[] };
  const keys = Array.from({ length: 20 }, (_, i) => `value of k${i}`);
  assert.deepEqual(result.values, [...keys, ...keys]);
  // Each key loaded once in the ring, by its owner, plus the one not-found.
  assert.equal(result.loads, 21);
  assert.equal(result.missing, 'not found');
  assert.deepEqual(result.afterSet, ['new value', 'new value']);
  assert.equal(result.peers, 2);
  assert.ok(result.peerLoads.every((n) => n > 0), `both nodes fetched from the other: ${JSON.stringify(result.peerLoads)}`);
});
