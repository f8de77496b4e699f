// imports.test.ts keeps the architecture as the folders tell it: imports point one way (inside src/, and between src/,
// harness/, test/ and bench/), the engine does no I/O, and the serving thread never loads @kubernetes/client-node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file runs from dist/test/. */
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

interface Import {
  specifier: string;
  typeOnly: boolean;
}

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, extension);
    return path.endsWith(extension) ? [path] : [];
  });
}

/** Static imports and re-exports, side-effect imports, and dynamic import() with a literal. */
function importsOf(source: string): Import[] {
  const found: Import[] = [];
  for (const match of source.matchAll(/(?:^|\n)[ \t]*(import|export)\b([^;'"]*?)\bfrom\s*['"]([^'"]+)['"]/g)) {
    found.push({ specifier: match[3]!, typeOnly: /^\s*type\b/.test(match[2]!) });
  }
  for (const match of source.matchAll(/(?:^|\n)[ \t]*import\s*['"]([^'"]+)['"]/g)) found.push({ specifier: match[1]!, typeOnly: false });
  for (const match of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: match[1]!, typeOnly: false });
  return found;
}

/** A module's name relative to its tree's root, e.g. `engine/group.ts`; relative specifiers resolved. */
interface Graph {
  /** Module -> the modules of the tree it imports. */
  internal: Map<string, Set<string>>;
  /** Module -> the packages and builtins it imports. */
  external: Map<string, Set<string>>;
}

function graphOf(treeRoot: string, extension: '.ts' | '.js', runtimeOnly: boolean): Graph {
  const internal = new Map<string, Set<string>>();
  const external = new Map<string, Set<string>>();
  for (const file of filesUnder(treeRoot, extension)) {
    const name = relative(treeRoot, file);
    const inside = new Set<string>();
    const outside = new Set<string>();
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      if (runtimeOnly && typeOnly) continue;
      if (specifier.startsWith('.')) inside.add(relative(treeRoot, resolve(dirname(file), specifier.replace(/\.js$/, extension))));
      else outside.add(specifier);
    }
    internal.set(name, inside);
    external.set(name, outside);
  }
  return { internal, external };
}

const sources = graphOf(join(root, 'src'), '.ts', false);

/** The unit a module belongs to: its top folder under src/, or the file itself at the root. */
const unitOf = (module: string): string => (module.includes('/') ? module.slice(0, module.indexOf('/')) : module);

/**
 * What each unit may import besides itself, lowest first. Data flows one way:
 * entry points -> cache-node -> http, discovery, sources, config -> ops, protocol -> engine -> memory -> errors.
 */
const ALLOWED: Record<string, readonly string[]> = {
  'errors.ts': [],
  memory: ['errors.ts'],
  protocol: ['errors.ts'],
  engine: ['memory', 'errors.ts'],
  ops: ['engine', 'memory', 'errors.ts'],
  http: ['ops', 'protocol', 'engine', 'memory', 'errors.ts'],
  sources: ['http', 'protocol', 'engine', 'memory', 'errors.ts'],
  discovery: ['ops', 'engine', 'errors.ts'],
  'config.ts': ['protocol', 'engine', 'errors.ts'],
  'cache-node.ts': ['config.ts', 'discovery', 'sources', 'http', 'ops', 'protocol', 'engine', 'memory', 'errors.ts'],
  'geecache.ts': ['cache-node.ts', 'config.ts', 'engine', 'errors.ts'],
  'index.ts': ['geecache.ts', 'config.ts', 'protocol', 'engine', 'errors.ts'],
  'main.ts': ['index.ts', 'ops'],
  'local-cluster.ts': ['memory'],
};

/** The engine is pure: these are all it may take from outside the tree. */
const ENGINE_PACKAGES = new Set(['node:zlib']);

test('every module of src/ belongs to a unit with import rules, and imports only what its unit may', () => {
  const violations: string[] = [];
  for (const [module, imports] of sources.internal) {
    const unit = unitOf(module);
    const allowed = ALLOWED[unit];
    if (allowed === undefined) {
      violations.push(`${module}: unit ${unit} has no entry in ALLOWED`);
      continue;
    }
    for (const target of imports) {
      const targetUnit = unitOf(target);
      if (targetUnit !== unit && !allowed.includes(targetUnit)) violations.push(`${module} imports ${target}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('src/ has no import cycle', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (module: string): void => {
    if (state.get(module) === 'done') return;
    if (state.get(module) === 'open') {
      cycles.push([...path.slice(path.indexOf(module)), module].join(' -> '));
      return;
    }
    state.set(module, 'open');
    path.push(module);
    for (const next of sources.internal.get(module) ?? []) visit(next);
    path.pop();
    state.set(module, 'done');
  };
  for (const module of sources.internal.keys()) visit(module);
  assert.deepEqual(cycles, []);
});

test('the engine takes no sockets, timers, environment or packages beyond its own leaves', () => {
  const violations: string[] = [];
  for (const [module, packages] of sources.external) {
    if (unitOf(module) !== 'engine') continue;
    for (const name of packages) if (!ENGINE_PACKAGES.has(name)) violations.push(`${module} imports ${name}`);
    const text = readFileSync(join(root, 'src', module), 'utf8');
    for (const word of ['setTimeout', 'setInterval', 'setImmediate', 'process.']) {
      if (text.includes(word)) violations.push(`${module} uses ${word}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('only the entry points read process.env', () => {
  const readers = [...sources.internal.keys()].filter((module) => readFileSync(join(root, 'src', module), 'utf8').includes('process.env'));
  assert.deepEqual(readers.sort(), ['local-cluster.ts', 'main.ts']);
});

test('the serving thread never loads @kubernetes/client-node; the discovery worker does', () => {
  const compiled = graphOf(join(root, 'dist', 'src'), '.js', true);
  const closure = (entry: string): Set<string> => {
    const seen = new Set<string>();
    const walk = (module: string): void => {
      if (seen.has(module)) return;
      seen.add(module);
      for (const next of compiled.internal.get(module) ?? []) walk(next);
    };
    walk(entry);
    return seen;
  };
  const loadsClientNode = (modules: Set<string>): string[] =>
    [...modules].filter((module) => [...(compiled.external.get(module) ?? [])].some((name) => name.startsWith('@kubernetes/client-node')));

  const serving = closure('main.js');
  assert.ok(serving.has('cache-node.js') && serving.has('discovery/kubernetes/worker-discovery.js'), 'the closure is the real one');
  assert.deepEqual(loadsClientNode(serving), [], 'modules the serving thread loads');
  // The worker is started by URL, not imported: its file must exist where WorkerDiscovery looks for it.
  const workerUrl = /new URL\('\.\/([^']+)', import\.meta\.url\)/.exec(readFileSync(join(root, 'dist', 'src', 'discovery', 'kubernetes', 'worker-discovery.js'), 'utf8'));
  assert.ok(workerUrl, 'worker-discovery.js names its worker file');
  const worker = `discovery/kubernetes/${workerUrl[1]!}`;
  assert.ok(compiled.internal.has(worker), `${worker} exists`);
  assert.notDeepEqual(loadsClientNode(closure(worker)), [], 'the worker is where client-node lives');
});

/**
 * What each top folder may import besides itself. harness/ is the process harness tests and bench share: it may
 * use the product, never the tests or the bench, and the product never uses it.
 */
const TOP_ALLOWED: Record<string, readonly string[]> = {
  src: [],
  harness: ['src'],
  test: ['harness', 'src'],
  bench: ['harness', 'src'],
  examples: ['src'],
};

/**
 * Type-only imports allowed across the rules above, each with its reason: the reliability report reads the
 * results file the real-cluster suite writes, and takes that file's format from the suite.
 */
const TYPE_ONLY_EXCEPTIONS = new Set(['bench/reliability/report.ts -> test/k8s/support/results.ts']);

test('src/, harness/, test/ and bench/ import one another only downwards', () => {
  const violations: string[] = [];
  for (const [top, allowed] of Object.entries(TOP_ALLOWED)) {
    for (const file of filesUnder(join(root, top), '.ts')) {
      const from = relative(root, file);
      for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
        const targetTop = target.slice(0, target.indexOf('/'));
        if (targetTop === top || allowed.includes(targetTop)) continue;
        if (typeOnly && TYPE_ONLY_EXCEPTIONS.has(`${from} -> ${target}`)) continue;
        violations.push(`${from} imports ${target}`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
