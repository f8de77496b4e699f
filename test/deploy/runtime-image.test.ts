// runtime-image.test.ts reproduces the Dockerfile's runtime stage without Docker (no engine runs
// here): production-only `npm ci` plus a fresh tsconfig.build.json build in a scratch /app, then
// runs the image's CMD there, on this Node and on the image's Node 24, and talks to it over HTTP.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it, type TestContext } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { NODE_FLAGS, POD_ENV } from '../../src/memory/node-flags.js';
import { repoRoot, scratchDir } from './render.js';
import { httpGet } from '../../harness/cache-process.js';
import { freePorts } from '../../harness/ports.js';
import { sleep } from '../../harness/wait.js';

const execFileAsync = promisify(execFile);

// ---- the Dockerfile, parsed into stages of instructions --------------------

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with comments dropped and `\` continuations joined; ARGs before the first FROM are global. */
function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1).trim() + ' ';
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const space = line.indexOf(' ');
    const instruction = { op: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    if (instruction.op === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      assert.ok(match, `FROM ${instruction.args}`);
      stages.push({ from: match[1]!, name: match[2], instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push(instruction);
    } else {
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const finalStage = dockerfile.stages[dockerfile.stages.length - 1];
const buildStage = dockerfile.stages.find((s) => s.name === 'build');
const show = (instructions: Instruction[] | undefined) => (instructions ?? []).map((i) => `${i.op} ${i.args}`);

/**
 * The runtime stage exactly as this test reproduces it. Changing the stage
 * fails the first test below until the reproduction is changed to match.
 */
const expectedRuntime = [
  'ENV NODE_ENV=production',
  'ENV MALLOC_MMAP_THRESHOLD_=131072',
  'ENV MALLOC_ARENA_MAX=2',
  'WORKDIR /app',
  'COPY package.json package-lock.json ./',
  'RUN npm ci --omit=dev && npm cache clean --force',
  'COPY --from=build /app/dist/src ./dist/src',
  'USER node',
  'EXPOSE 8001 9999',
  'CMD ["node", "--no-memory-reducer", "--expose-gc", "--min-semi-space-size=16", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "dist/src/main.js"]',
];

/** The image's Node version, from `ARG NODE_IMAGE=node:<version>-<variant>`. */
function imageNodeVersion(): string {
  const arg = dockerfile.globalArgs.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
  const match = /^NODE_IMAGE=node:(\d+\.\d+\.\d+)-[a-z]+-slim$/.exec(arg?.args ?? '');
  assert.ok(match, `ARG NODE_IMAGE pins a full node:<x.y.z>-<debian>-slim tag (got ${arg?.args ?? 'nothing'})`);
  return match[1]!;
}

// ---- child processes and HTTP -----------------------------------------------

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

interface Server {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The Dockerfile's ENV lines (KEY=value form only). */
function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of finalStage?.instructions ?? []) {
    if (i.op !== 'ENV') continue;
    const eq = i.args.indexOf('=');
    assert.ok(eq > 0, `ENV ${i.args} uses KEY=value`);
    env[i.args.slice(0, eq)] = i.args.slice(eq + 1);
  }
  return env;
}

// Running as root, the child takes the image's `node` user (uid/gid 1000), to
// which the root-owned /app is read-only, as in the pod.
const asNodeUser = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : {};

/** Starts the image's CMD with `nodeBinary` in place of `node`, in `app` (the image's /app). */
function startServer(nodeBinary: string, app: string, env: Record<string, string>): Server {
  const cmd = finalStage?.instructions.find((i) => i.op === 'CMD');
  const argv = JSON.parse(cmd?.args ?? '[]') as string[];
  assert.equal(argv[0], 'node');
  // The child sees only the image's environment and ours, not the test runner's
  // (LOG_FORMAT, KUBECONFIG, NODE_OPTIONS there would change what runs).
  const childEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: app, ...imageEnv(), ...env };
  const child = spawn(nodeBinary, argv.slice(1), { cwd: app, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], ...asNodeUser });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Polls url until it answers 200; fails at once if the server exits. */
async function waitFor200(server: Server, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      assert.fail(`server exited (${server.child.exitCode ?? server.child.signalCode}) before ${url} answered 200\nstderr: ${server.stderr()}\nstdout: ${server.stdout()}`);
    }
    try {
      const answer = await httpGet(url, 1000);
      if (answer.status === 200) return;
      last = `${answer.status} ${answer.body.trim()}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) assert.fail(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})\nstderr: ${server.stderr()}`);
    await sleep(100);
  }
}

/** JSON log lines from stdout; every non-empty line must be JSON with LOG_FORMAT=json. */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return assert.fail(`stdout line is not JSON: ${line}`);
      }
    });
}

/** Everything the image must do once running: probes, the API, metrics, then a clean SIGTERM exit. */
async function exerciseImage(nodeBinary: string, app: string): Promise<string> {
  const version = execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim();
  const [peerPort, httpPort] = (await freePorts(2)) as [number, number];
  const server = startServer(nodeBinary, app, {
    GEECACHE_PORT: String(peerPort),
    GEECACHE_HTTP_PORT: String(httpPort),
    GEECACHE_BIND: '127.0.0.1',
    GEECACHE_DISCOVERY: 'static',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
  });
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor200(server, `${base}/healthz`, 15_000);
    await waitFor200(server, `${base}/readyz`, 5_000);

    const tom = await httpGet(`${base}/api?key=Tom`);
    assert.deepEqual(tom, { status: 200, body: '630' }, 'Tom is 630 in the demo group');
    const missing = await httpGet(`${base}/api?key=kkk`);
    assert.equal(missing.status, 404);
    assert.match(missing.body, /kkk not exist/);
    const metrics = await httpGet(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^geecache_local_loads_total/m);

    const start = Date.now();
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
    const { code, signal } = await server.exited;
    clearTimeout(timer);
    assert.equal(signal, null, `exited on its own, not by ${signal ?? ''} (stderr: ${server.stderr()})`);
    assert.equal(code, 0, `exit code after SIGTERM (stderr: ${server.stderr()})`);
    assert.ok(Date.now() - start < 5000, 'exits within 5 s of SIGTERM');

    const logs = logLines(server.stdout());
    const started = logs.find((l) => l.msg === 'geecache started');
    assert.ok(started, `a "geecache started" line (stdout: ${server.stdout()})`);
    assert.equal(started.self, `http://127.0.0.1:${peerPort}`, 'static self defaults to the bind address and peer port');
    assert.equal(started.httpPort, httpPort);
    assert.equal(started.idleGc, 'on', 'the CMD exposes gc, so the idle GC runs');
    assert.ok(logs.some((l) => l.msg === 'shut down'), `a "shut down" line (stdout: ${server.stdout()})`);
    assert.ok(!logs.some((l) => typeof l.level === 'number' && l.level >= 50), 'no error or fatal lines');
    return version;
  } finally {
    server.child.kill('SIGKILL');
  }
}

// ---- the tests ---------------------------------------------------------------

describe('runtime image (the Dockerfile runtime stage, reproduced without Docker)', () => {
  const scratch = scratchDir('geecache-image-');
  // Stands for the image's /app.
  const app = join(scratch.path, 'app');
  let installLog = '';

  before(
    async () => {
      // Build stage: `npx tsc -p tsconfig.build.json`, fresh, into the scratch dir.
      const build = join(scratch.path, 'build');
      await execFileAsync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', join(build, 'dist')], {
        cwd: repoRoot,
        timeout: 120_000,
      });
      assert.ok(existsSync(join(build, 'dist', 'src', 'main.js')), 'tsconfig.build.json emits dist/src/main.js, the path COPY --from=build takes');

      // Runtime stage: manifests, production install, compiled sources.
      execFileSync('mkdir', ['-p', app]);
      for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(repoRoot, file), join(app, file));
      // The runner's npm_* variables (under `npm test`) must not change the install.
      const npmEnv = Object.fromEntries(Object.entries({ ...process.env, ...imageEnv() }).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
      // --ignore-scripts: the image runs install scripts (only protobufjs's
      // postinstall, a version notice); here nothing from the registry runs.
      const install = await execFileAsync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: app,
        env: npmEnv,
        timeout: 170_000,
        maxBuffer: 16 * 1024 * 1024,
      });
      installLog = install.stdout + install.stderr;
      execFileSync('cp', ['-R', join(build, 'dist'), join(app, 'dist')]);

      // Root owns /app and the node user cannot write to it (the pod's root filesystem is read-only too).
      chmodSync(scratch.path, 0o755);
      execFileSync('chmod', ['-R', 'a-w', app]);
    },
    { timeout: 240_000 },
  );

  /**
   * A node binary the image's user can run. As root, the binary may sit where uid 1000 cannot reach
   * (a checkout or a Node install under a private directory): the node user then runs a copy of it
   * from the scratch directory, which it can enter.
   */
  const runnableByNodeUser = (binary: string, name: string): string => {
    if (asNodeUser.uid === undefined) return binary;
    const copy = join(scratch.path, name);
    copyFileSync(binary, copy);
    chmodSync(copy, 0o755);
    return copy;
  };

  after(() => {
    for (const child of children) child.kill('SIGKILL');
    if (existsSync(app)) execFileSync('chmod', ['-R', 'u+w', app]);
    scratch.remove();
  });

  it('matches the Dockerfile it reproduces', () => {
    imageNodeVersion();
    assert.ok(dockerfile.stages.every((s) => s.from === '${NODE_IMAGE}'), 'every stage starts from ${NODE_IMAGE}');
    assert.equal(finalStage?.name, 'runtime', 'the last stage (the image) is "runtime"');
    assert.deepEqual(show(finalStage?.instructions), expectedRuntime, 'runtime stage, instruction by instruction');
    const build = show(buildStage?.instructions);
    for (const line of ['WORKDIR /app', 'RUN npm ci', 'COPY src ./src', 'RUN npx tsc -p tsconfig.build.json']) {
      assert.ok(build.includes(line), `build stage has ${line}`);
    }
    // EXPOSE lists the ports the program listens on by default.
    const defaults = loadConfig({});
    assert.ok(expectedRuntime.includes(`EXPOSE ${defaults.port} ${defaults.httpPort}`), 'EXPOSE matches the default ports');
    // The pod runs with the flags local-cluster and bench/ start it with.
    assert.ok(expectedRuntime.includes(`CMD ${JSON.stringify(['node', ...NODE_FLAGS, 'dist/src/main.js']).replaceAll(',', ', ')}`), 'CMD passes NODE_FLAGS');
    for (const [name, value] of Object.entries(POD_ENV)) assert.equal(imageEnv()[name], value, `the image sets ${name} as POD_ENV does`);
  });

  it('sends only the files the build copies into the build context', () => {
    const allowed = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).trim());
    const copied = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    assert.ok(copied.length > 0);
    for (const source of copied) assert.ok(allowed.includes(source), `.dockerignore lets ${source} into the context`);
  });

  it('installs the production dependencies and no dev dependency', () => {
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
    const dev = entries.filter(([, p]) => p.dev).map(([path]) => path);
    const prod = entries.filter(([, p]) => !p.dev && !p.optional).map(([path]) => path);
    assert.ok(dev.length > 0 && prod.length > 0);
    const present = dev.filter((path) => existsSync(join(app, path)));
    assert.deepEqual(present, [], `dev-only packages installed (npm said: ${installLog.trim()})`);
    const absent = prod.filter((path) => !existsSync(join(app, path)));
    assert.deepEqual(absent, [], 'production packages missing');
    for (const name of ['typescript', 'eslint', 'supertest', 'typescript-eslint', 'yaml', 'kubernetes-models']) {
      assert.ok(!existsSync(join(app, 'node_modules', name)), `${name} is a dev dependency, not in the image`);
    }
    const devDependencies = Object.keys((JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { devDependencies?: object }).devDependencies ?? {});
    for (const name of devDependencies) {
      if (prod.includes(`node_modules/${name}`)) continue; // also a production dependency's dependency (@types/node)
      assert.ok(!existsSync(join(app, 'node_modules', name)), `${name} is not installed`);
    }
  });

  it('holds only the compiled sources under dist/', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path.slice(app.length + 1));
      }
    };
    walk(join(app, 'dist'));
    assert.ok(files.includes('dist/src/main.js'));
    assert.deepEqual(files.filter((f) => !f.startsWith('dist/src/') || !f.endsWith('.js')), [], 'no tests, maps or build info');
  });

  it(`serves and shuts down cleanly on this Node (${process.version})`, { timeout: 60_000 }, async () => {
    await exerciseImage(runnableByNodeUser(process.execPath, 'node-current'), app);
  });

  it(`serves and shuts down cleanly on the image's Node (${imageNodeVersion()})`, { timeout: 180_000 }, async (t: TestContext) => {
    let node24: string;
    try {
      const out = execFileSync('bash', [join(repoRoot, 'scripts', 'node24.sh')], {
        cwd: repoRoot,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 150_000,
      });
      node24 = out.trim().split('\n').pop() ?? '';
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? String(err);
      t.skip(`scripts/node24.sh could not provide Node 24: ${stderr.trim()}`);
      return;
    }
    const version = await exerciseImage(runnableByNodeUser(node24, 'node24'), app);
    const [major] = imageNodeVersion().split('.');
    assert.ok(version.startsWith(`v${major}.`), `${node24} is Node ${major} (got ${version})`);
    if (version !== `v${imageNodeVersion()}`) t.diagnostic(`ran ${version}; the Dockerfile pins ${imageNodeVersion()}, which the registry lacks`);
    else t.diagnostic(`ran ${version}, the Dockerfile's version`);
  });
});
