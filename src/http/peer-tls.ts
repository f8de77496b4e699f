// peer-tls.ts holds the peer port's mutual TLS: a certificate, its key and the ring's CA, read from a directory laid out
// as a Kubernetes TLS Secret (tls.crt, tls.key, ca.crt), and read again when they change, without a restart.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import { join } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { buildConnector } from 'undici';
import { ConfigError } from '../errors.js';

/** The files of a `kubernetes.io/tls` Secret with its CA, as cert-manager writes it. */
export const PEER_TLS_FILES = { cert: 'tls.crt', key: 'tls.key', ca: 'ca.crt' } as const;

/** The PEM bytes of the three files. */
export interface PeerTlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

export interface PeerTlsOptions {
  /** The directory holding tls.crt, tls.key and ca.crt. */
  dir: string;
  /** The setting that named it, for error messages. */
  setting: string;
  /** How often the files are read again. Default 2000 ms. */
  reloadMs?: number;
  /** Told when new files were taken. */
  onReload?: () => void;
  /** Told when changed files could not be used (half written, key and certificate apart); the old ones stay. */
  onReloadFailed?: (err: Error) => void;
}

/**
 * Identity is the ring's CA and nothing else: a peer is whoever holds a key the CA certified, in
 * both directions. Peers are addressed by pod IP, which certificates made for pods (cert-manager's)
 * rarely name, so the server's name is not compared with the address: the CA must be one that
 * issues only to this ring's pods (docs/configuration.md, SECURITY.md).
 */
const chainOnly = (): undefined => undefined;

/** Reads the three files; throws ConfigError naming the setting and the file at fault. */
export function readPeerTls(dir: string, setting: string): PeerTlsMaterial {
  const read = (name: string): Buffer => {
    try {
      return readFileSync(join(dir, name));
    } catch (err) {
      throw new ConfigError(setting, `cannot read ${join(dir, name)}: ${(err as Error).message}`);
    }
  };
  const material = { cert: read(PEER_TLS_FILES.cert), key: read(PEER_TLS_FILES.key), ca: read(PEER_TLS_FILES.ca) };
  const problem = materialProblem(material);
  if (problem) throw new ConfigError(setting, `${dir}: ${problem}`);
  return material;
}

/** Why the files cannot serve (a key that is not the certificate's, PEM that does not parse), or undefined. */
function materialProblem(material: PeerTlsMaterial): string | undefined {
  try {
    createSecureContext(material);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export class PeerTls {
  private readonly options: PeerTlsOptions;
  private material: PeerTlsMaterial;
  private readonly servers: HttpsServer[] = [];
  /** One undici connector per connect timeout, rebuilt when the files change. */
  private readonly connectors = new Map<number, buildConnector.connector>();
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  /** The last files that could not be used, so a broken state is reported once, not every poll. */
  private refused: PeerTlsMaterial | undefined;
  /** The last read failure reported, for the same reason. */
  private lastFailure: string | undefined;

  /** Reads the files at once (a missing or broken one throws ConfigError); start() watches them. */
  constructor(options: PeerTlsOptions) {
    this.options = options;
    this.material = readPeerTls(options.dir, options.setting);
  }

  /** The peer port's TLS: our certificate, and a client certificate the CA signed required of every connection. */
  serverOptions(): HttpsServerOptions {
    return { ...this.secureContext(), requestCert: true, rejectUnauthorized: true };
  }

  /** A server made with serverOptions() (createCacheServer's HTTPS one), whose certificate follows the files from now on. */
  serve(server: Server): void {
    if (!(server instanceof HttpsServer)) throw new TypeError('peer TLS serves only an HTTPS server');
    this.servers.push(server);
  }

  /**
   * An undici `connect` function for peer connections: each new connection presents our certificate
   * and verifies the peer's against the CA, with the files as they are when it opens.
   */
  connector(timeoutMs: number): buildConnector.connector {
    return (options, callback) => {
      let connect = this.connectors.get(timeoutMs);
      if (!connect) {
        connect = buildConnector({ ...this.secureContext(), timeout: timeoutMs, rejectUnauthorized: true, checkServerIdentity: chainOnly });
        this.connectors.set(timeoutMs, connect);
      }
      connect(options, callback);
    };
  }

  /** Reads the files every reloadMs. Idempotent. */
  start(): void {
    this.timer ??= setInterval(() => void this.reload(), this.options.reloadMs ?? 2000).unref();
  }

  close(): void {
    clearInterval(this.timer);
  }

  /** Reads the files; takes them when they changed and make a usable pair with a CA. Resolves to whether it took them. */
  async reload(): Promise<boolean> {
    if (this.reading) return false;
    this.reading = true;
    try {
      const { dir } = this.options;
      const [cert, key, ca] = await Promise.all([PEER_TLS_FILES.cert, PEER_TLS_FILES.key, PEER_TLS_FILES.ca].map((name) => readFile(join(dir, name))));
      const material = { cert: cert!, key: key!, ca: ca! };
      if (sameMaterial(material, this.material) || (this.refused && sameMaterial(material, this.refused))) return false;
      const problem = materialProblem(material);
      if (problem) {
        this.refused = material;
        this.options.onReloadFailed?.(new Error(`${dir}: ${problem}; keeping the files read before`));
        return false;
      }
      this.material = material;
      this.refused = undefined;
      this.lastFailure = undefined;
      this.connectors.clear();
      for (const server of this.servers) server.setSecureContext(this.secureContext());
      this.options.onReload?.();
      return true;
    } catch (err) {
      // A Secret volume swaps its files through a symlink: a read between the two steps finds one missing; the next poll sees them whole.
      if ((err as Error).message !== this.lastFailure) this.options.onReloadFailed?.(err as Error);
      this.lastFailure = (err as Error).message;
      return false;
    } finally {
      this.reading = false;
    }
  }

  private secureContext(): SecureContextOptions {
    const { cert, key, ca } = this.material;
    return { cert, key, ca, minVersion: 'TLSv1.2' };
  }
}

function sameMaterial(a: PeerTlsMaterial, b: PeerTlsMaterial): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && a.ca.equals(b.ca);
}
