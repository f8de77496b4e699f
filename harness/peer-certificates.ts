// peer-certificates.ts makes the certificates of a ring's mutual TLS with the openssl CLI, for tests and the bench:
// a CA, and certificates it signs, each written as a directory laid out like a Kubernetes TLS Secret.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEER_TLS_FILES } from '../src/http/peer-tls.js';

/** A CA: its certificate and key as files in `dir`. */
export interface TestCa {
  dir: string;
  cert: string;
  key: string;
}

const openssl = (args: string[], cwd: string): void => void execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** P-256 keys: made in milliseconds, where RSA takes a noticeable while per certificate. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A scratch directory for certificates; remove() deletes it. */
export function certificateScratch(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'geecache-tls-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A self-signed CA named `name`, in `<root>/<name>/`. */
export function makeCa(root: string, name: string): TestCa {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], dir);
  return { dir, cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
}

/**
 * A certificate for `name` signed by `ca`, written with `trusted` (default: the same CA) as ca.crt into
 * `dir` (tls.crt, tls.key, ca.crt), each file replaced whole by a rename.
 */
export function issueCertificate(ca: TestCa, dir: string, name: string, trusted: readonly TestCa[] = [ca]): string {
  const work = mkdtempSync(join(tmpdir(), 'geecache-cert-'));
  try {
    openssl(['req', ...EC_KEY, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', `/CN=${name}`], work);
    writeFileSync(join(work, 'ext.cnf'), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['x509', '-req', '-in', 'tls.csr', '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-CAserial', join(work, 'ca.srl'), '-out', 'tls.crt', '-days', '2', '-extfile', 'ext.cnf'], work);
    writeFileSync(join(work, 'ca.crt'), trusted.map((t) => readFileSync(t.cert, 'utf8')).join(''));
    mkdirSync(dir, { recursive: true });
    for (const file of Object.values(PEER_TLS_FILES)) renameSync(join(work, file), join(dir, file));
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The PEM files of a certificate directory, for a test's own TLS client. */
export function readCertificateDir(dir: string): { cert: Buffer; key: Buffer; ca: Buffer } {
  return { cert: readFileSync(join(dir, PEER_TLS_FILES.cert)), key: readFileSync(join(dir, PEER_TLS_FILES.key)), ca: readFileSync(join(dir, PEER_TLS_FILES.ca)) };
}
