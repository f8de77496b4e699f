// admin-requests.ts sends a peer the requests that are not gets: invalidations, peeks and handoffs. Each
// is one request bounded as a whole, outside the batching, heartbeats and circuit breaker of gets.
import type { Pool } from 'undici';
import type { HandedValue, PeerValue } from '../../engine/peers.js';
import { PeerAdminError } from '../../errors.js';
import { batchPath } from '../../protocol/batch.js';
import { decodeGetResponse, peerPath } from '../../protocol/get.js';
import { SET_TTL_HEADER } from '../../protocol/set.js';
import { encodeHandoff, HANDOFF_CONTENT_TYPE, HANDOFF_SEGMENT, HANDOFF_SENDER_HEADER, PEEK_SEGMENT } from '../../protocol/handoff.js';
import { describeNetworkError, fetchBytes, type BytesRequest, type FetchedBytes } from '../fetch-bytes.js';

export interface AdminRequestsOptions {
  url: string;
  basePath: string;
  connections: Pool;
  /** Bound of an invalidation or a handoff. */
  timeoutMs: number;
  /** Bound of a peek, after which the key is loaded instead. */
  peekTimeoutMs: number;
  maxResponseBytes: number;
  /**
   * Bearer token of invalidations when the ring has no peer token (the client's admin token);
   * without either, invalidate() fails.
   */
  adminToken?: string;
  /** This process's own peer URL, which a handoff names its sender by. */
  self?: string;
  /** Bearer token of peeks, handoffs and invalidations, when the ring has one: then the admin token is never sent. */
  peerToken?: string;
}

export class AdminRequests {
  private readonly options: AdminRequestsOptions;
  /** Set once the peer answered a handoff request as a peer without handoff would (a Go groupcache peer): it is sent no more. */
  private noHandoff = false;

  constructor(options: AdminRequestsOptions) {
    this.options = options;
  }

  /**
   * DELETE <basePath><group>/<key> (or <group>/ for every key): the peer drops its copies and tells
   * nobody else. Only a geecache peer answers 204; a Go groupcache peer takes the DELETE for a GET.
   * Bounded by the peer timeout as a whole: the peer does no slow work for it.
   */
  async invalidate(group: string, key: string | undefined): Promise<void> {
    const { url, basePath, timeoutMs } = this.options;
    const path = key === undefined ? batchPath(basePath, group) : peerPath(basePath, group, key);
    const { status, body } = await this.send({ method: 'DELETE', path, headers: ['authorization', this.changeToken()] }, timeoutMs);
    if (status === 204) return;
    if (status === 200) throw new PeerAdminError(url, 'not a geecache peer: it answered the DELETE as a get', { status });
    const text = body.toString('utf8').trim();
    throw new PeerAdminError(url, `answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, { status });
  }

  /**
   * PUT <basePath><group>/<key> with the value: the peer, the key's owner, stores it and tells nobody
   * else. Sent with the invalidation's bearer token, as an invalidation is; 204 only from a geecache peer.
   */
  async set(group: string, key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    const { url, basePath, timeoutMs } = this.options;
    const headers = ['authorization', this.changeToken(), 'content-type', 'application/octet-stream'];
    if (ttlMs > 0) headers.push(SET_TTL_HEADER, String(ttlMs));
    const { status, body } = await this.send({ method: 'PUT', path: peerPath(basePath, group, key), headers, body: value }, timeoutMs);
    if (status === 204) return;
    if (status === 200) throw new PeerAdminError(url, 'not a geecache peer: it answered the PUT as a get', { status });
    const text = body.toString('utf8').trim();
    throw new PeerAdminError(url, `set answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, { status });
  }

  /**
   * The Authorization header of a request that changes what the peer serves (invalidate, set): the
   * peer token; without one, the admin token (a ring configured before peer tokens).
   */
  private changeToken(): string {
    const { url, adminToken, peerToken } = this.options;
    const token = peerToken ?? adminToken;
    if (!token) throw new PeerAdminError(url, 'no peer token or admin token to send');
    return `Bearer ${token}`;
  }

  /**
   * GET <basePath>~peek/<group>/<key>: the peer's cached copy, or undefined (204). A 404 is a peer
   * that knows no peeks (a Go groupcache peer: "no such group"): undefined, and it is not asked again.
   */
  async peek(group: string, key: string): Promise<PeerValue | undefined> {
    if (this.noHandoff) return undefined;
    const { url, basePath, peekTimeoutMs, peerToken } = this.options;
    const headers = peerToken ? ['authorization', `Bearer ${peerToken}`] : undefined;
    const { status, body } = await this.send({ method: 'GET', path: peerPath(basePath + PEEK_SEGMENT, group, key), headers }, peekTimeoutMs);
    if (status === 204) return undefined;
    if (status === 200) {
      const { value, expiresAt } = decodeGetResponse(body);
      return { value, expiresAt };
    }
    if (status === 404 || status === 405) {
      this.noHandoff = true;
      return undefined;
    }
    throw new PeerAdminError(url, `peek answered ${status}: ${body.toString('utf8').trim().slice(0, 200)}`, { status });
  }

  /** POST <basePath>~handoff/<group>/: the values this process hands over as it leaves; resolves to how many the peer stored. */
  async handOff(group: string, values: readonly HandedValue[]): Promise<number> {
    const { url, basePath, self, peerToken, timeoutMs } = this.options;
    if (this.noHandoff) throw new PeerAdminError(url, 'the peer takes no handoff');
    if (!self) throw new PeerAdminError(url, 'no sender URL to name in a handoff');
    const headers = ['content-type', HANDOFF_CONTENT_TYPE, HANDOFF_SENDER_HEADER, self];
    if (peerToken) headers.push('authorization', `Bearer ${peerToken}`);
    const { status, body } = await this.send({ method: 'POST', path: batchPath(basePath + HANDOFF_SEGMENT, group), headers, body: encodeHandoff(values) }, timeoutMs);
    const text = body.toString('utf8').trim();
    if (status === 200 && /^\d+$/.test(text)) return Number(text);
    if (status === 404 || status === 405) this.noHandoff = true;
    throw new PeerAdminError(url, `handoff answered ${status}: ${text.slice(0, 200)}`, { status });
  }

  private async send(request: BytesRequest, timeoutMs: number): Promise<FetchedBytes> {
    try {
      return await fetchBytes(this.options.connections, request, this.options.maxResponseBytes, { deadlineMs: timeoutMs });
    } catch (err) {
      throw new PeerAdminError(this.options.url, describeNetworkError(err, timeoutMs), { cause: err });
    }
  }
}
