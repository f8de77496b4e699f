import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Pool } from 'undici';
import { PeerTls } from '../../src/http/peer-tls.js';
import { createCacheServer, listen } from '../../src/http/servers.js';
import { ConfigError } from '../../src/errors.js';
import { certificateScratch, issueCertificate, makeCa, readCertificateDir } from '../../harness/peer-certificates.js';

const scratch = certificateScratch();
after(() => scratch.remove());
const ringCa = makeCa(scratch.path, 'ring-ca');
const otherCa = makeCa(scratch.path, 'other-ca');
const serverDir = issueCertificate(ringCa, join(scratch.path, 'server'), 'geecache-peer');
const clientDir = issueCertificate(ringCa, join(scratch.path, 'client'), 'geecache-peer');
const strangerDir = issueCertificate(otherCa, join(scratch.path, 'stranger'), 'geecache-peer', [ringCa]);

/** An HTTPS peer port with `tls`, answering each request with the fingerprint of the client's certificate. */
async function peerPort(tls: PeerTls): Promise<number> {
  const server = createCacheServer({ IncomingMessage, ServerResponse }, (req, res) => res.end((req.socket as TLSSocket).getPeerCertificate().fingerprint256), {}, tls.serverOptions());
  tls.serve(server);
  await listen(server, 0, '127.0.0.1', 'peer');
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/** What a TLS client with `dir`'s files meets: the server certificate's fingerprint, or the error. */
function handshake(port: number, dir: string | undefined): Promise<string> {
  const own = dir === undefined ? {} : readCertificateDir(dir);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ...own, ca: readCertificateDir(serverDir).ca, checkServerIdentity: () => undefined }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      // TLS 1.3 refuses a client certificate after the client's side of the handshake: ask, and see.
      socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text.startsWith('HTTP/1.1 200') ? fingerprint : `no answer: ${text}`));
    });
    socket.on('error', (err) => resolve(`error: ${err.message}`));
  });
}

async function getThrough(pool: Pool): Promise<string> {
  const { statusCode, body } = await pool.request({ method: 'GET', path: '/' });
  assert.equal(statusCode, 200);
  return body.text();
}

test('a missing file or a key that is not the certificate\'s is a ConfigError naming the setting and the file', () => {
  assert.throws(() => new PeerTls({ dir: join(scratch.path, 'nowhere'), setting: 'GEECACHE_PEER_TLS_DIR' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /^GEECACHE_PEER_TLS_DIR: cannot read .*nowhere\/tls\.crt/);
    return true;
  });
  const mixed = issueCertificate(ringCa, join(scratch.path, 'mixed'), 'geecache-peer');
  writeFileSync(join(mixed, 'tls.key'), readCertificateDir(clientDir).key);
  assert.throws(() => new PeerTls({ dir: mixed, setting: 'GEECACHE_PEER_TLS_DIR' }), /GEECACHE_PEER_TLS_DIR: .*mixed: .*key/i);
});

test('the peer port takes only clients with a certificate from the ring\'s CA; a client verifies the port against the CA', async () => {
  const port = await peerPort(new PeerTls({ dir: serverDir, setting: 'S' }));
  const client = new PeerTls({ dir: clientDir, setting: 'S' });
  const pool = new Pool(`https://127.0.0.1:${port}`, { connect: client.connector(1000) });
  after(() => pool.destroy());
  assert.match(await getThrough(pool), /^[0-9A-F:]{95}$/, 'the server saw our certificate');
  assert.match(await handshake(port, clientDir), /^[0-9A-F:]{95}$/, 'a test client with a certificate from the CA');
  assert.match(await handshake(port, strangerDir), /^(error|no answer)/, 'a certificate from another CA');
  assert.match(await handshake(port, undefined), /^(error|no answer)/, 'no certificate');

  // A client whose CA did not sign the port's certificate does not talk to it.
  const wrongCa = issueCertificate(ringCa, join(scratch.path, 'wrong-ca'), 'geecache-peer', [otherCa]);
  const doubting = new Pool(`https://127.0.0.1:${port}`, { connect: new PeerTls({ dir: wrongCa, setting: 'S' }).connector(1000) });
  after(() => doubting.destroy());
  await assert.rejects(doubting.request({ method: 'GET', path: '/' }), /self[- ]signed|unable to verify|certificate/i);
});

test('rotation: after the files change, new connections present the new certificates, in both directions', async () => {
  const dir = issueCertificate(ringCa, join(scratch.path, 'rotating-server'), 'geecache-peer');
  const serverTls = new PeerTls({ dir, setting: 'S' });
  const port = await peerPort(serverTls);
  const clientRotating = issueCertificate(ringCa, join(scratch.path, 'rotating-client'), 'geecache-peer');
  const clientTls = new PeerTls({ dir: clientRotating, setting: 'S' });
  const connector = clientTls.connector(1000);

  const before = await handshake(port, clientDir);
  const seenBefore = await getThrough(new Pool(`https://127.0.0.1:${port}`, { connect: connector }));
  assert.equal(await serverTls.reload(), false, 'unchanged files are not taken again');

  issueCertificate(ringCa, dir, 'geecache-peer');
  issueCertificate(ringCa, clientRotating, 'geecache-peer');
  assert.equal(await serverTls.reload(), true);
  assert.equal(await clientTls.reload(), true);
  const after1 = await handshake(port, clientDir);
  assert.match(after1, /^[0-9A-F:]{95}$/);
  assert.notEqual(after1, before, 'the server presents its new certificate');
  const seenAfter = await getThrough(new Pool(`https://127.0.0.1:${port}`, { connect: connector }));
  assert.notEqual(seenAfter, seenBefore, 'the client presents its new certificate');

  // Files that do not make a pair are refused, once, and the last good ones stay.
  const failures: string[] = [];
  const watched = new PeerTls({ dir, setting: 'S', onReloadFailed: (err) => failures.push(err.message) });
  writeFileSync(join(dir, 'tls.key'), readCertificateDir(clientDir).key);
  assert.equal(await watched.reload(), false);
  assert.equal(await watched.reload(), false);
  assert.equal(failures.length, 1, failures.join('\n'));
  assert.match(failures[0]!, /keeping the files read before/);
});
