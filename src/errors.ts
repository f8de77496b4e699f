// errors.ts holds every error class geecache raises, each with a stable `code`.

export type GeecacheErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_SOURCE'
  | 'ERR_PEER_UNAVAILABLE'
  | 'ERR_PEER_REFUSED'
  | 'ERR_PEER_SILENT'
  | 'ERR_CIRCUIT_OPEN'
  | 'ERR_CLIENT_CLOSED'
  | 'ERR_PEER_ADMIN'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_DEADLINE'
  | 'ERR_INVALID_KEY'
  | 'ERR_UNKNOWN_GROUP'
  | 'ERR_DUPLICATE_GROUP'
  | 'ERR_CONFIG';

export class GeecacheError extends Error {
  readonly code: GeecacheErrorCode;
  constructor(code: GeecacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The source (or the owner peer, on its behalf) says the key does not exist. Final: never retried elsewhere. */
export class NotFoundError extends GeecacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NOT_FOUND', message, options);
  }
}

/** What a client is told of a source failure without a publicMessage, by status. */
const SOURCE_FAILURES: Record<number, string> = { 503: 'shutting down', 504: 'the source timed out' };

/**
 * The source failed to load a key (an error or timeout), locally or on the owner peer. `message`
 * (with the origin's URL, addresses, body) is for the log; clients get `publicMessage`.
 */
export class SourceError extends GeecacheError {
  /** HTTP status to report for it: 502 for a failed source, 504 for a timed-out one. */
  readonly status: number;
  /** What a client is told: a short phrase that names no URL, address or body. */
  readonly publicMessage: string;
  constructor(message: string, options?: { cause?: unknown; status?: number; publicMessage?: string }) {
    super('ERR_SOURCE', message, options);
    this.status = options?.status ?? 502;
    this.publicMessage = options?.publicMessage ?? SOURCE_FAILURES[this.status] ?? 'the source failed';
  }
}

/** Too many loads of the source already run and wait: refused at once (503) instead of queued without end. */
export class LoadShedError extends SourceError {
  /** What the 503 tells the client in Retry-After. */
  readonly retryAfterSeconds: number;
  constructor(message: string, options: { publicMessage?: string; retryAfterSeconds?: number } = {}) {
    super(message, { status: 503, publicMessage: options.publicMessage });
    this.retryAfterSeconds = options.retryAfterSeconds ?? 1;
  }
}

/** A peer could not be reached or did not answer usefully (refused, reset, timeout, unexpected status). */
export class PeerUnavailableError extends GeecacheError {
  readonly peer: string;
  readonly status: number | undefined;
  constructor(peer: string, message: string, options?: { cause?: unknown; status?: number }) {
    super('ERR_PEER_UNAVAILABLE', message, options);
    this.peer = peer;
    this.status = options?.status;
  }
}

/**
 * The owner answered our request with a 4xx other than 404: the request, not the owner's health, is
 * at fault (a key the owner's limits refuse), so loading it here instead would only hide the problem.
 */
export class PeerRefusedError extends GeecacheError {
  readonly peer: string;
  /** The owner's status. */
  readonly status: number;
  constructor(peer: string, status: number, message: string) {
    super('ERR_PEER_REFUSED', message);
    this.peer = peer;
    this.status = status;
  }
}

/** No sign of life from a peer (no answer, heartbeat or body bytes) within the peer timeout. */
export class SilentPeerError extends GeecacheError {
  constructor(message: string) {
    super('ERR_PEER_SILENT', message);
  }
}

/** The peer's circuit is open: it is not asked until the breaker lets a probe through. */
export class CircuitOpenError extends GeecacheError {
  constructor() {
    super('ERR_CIRCUIT_OPEN', 'circuit open: it did not answer the last requests, and is probed again shortly');
  }
}

/** A request asked of a peer client after close(). */
export class ClientClosedError extends GeecacheError {
  constructor() {
    super('ERR_CLIENT_CLOSED', 'client closed');
  }
}

/**
 * An invalidation, peek or handoff a peer did not confirm: it could not be sent, was not answered, or
 * was answered with `status`. Such a request is best effort, so callers report it rather than retry.
 */
export class PeerAdminError extends GeecacheError {
  readonly peer: string;
  readonly status: number | undefined;
  constructor(peer: string, message: string, options?: { cause?: unknown; status?: number }) {
    super('ERR_PEER_ADMIN', message, options);
    this.peer = peer;
    this.status = options?.status;
  }
}

/** A body (`what`: a response, a batch body, …) longer than the reader's limit; the only wording of that condition. */
export class BodyTooLargeError extends GeecacheError {
  readonly maxBytes: number;
  constructor(what: string, maxBytes: number) {
    super('ERR_BODY_TOO_LARGE', `${what} larger than ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

/** A request not answered in full (status, headers and the whole body) within its deadline. */
export class DeadlineError extends GeecacheError {
  readonly deadlineMs: number;
  constructor(deadlineMs: number) {
    super('ERR_DEADLINE', `no whole answer within ${deadlineMs} ms`);
    this.deadlineMs = deadlineMs;
  }
}

/** Statuses with which a server refuses the request itself (its key or size), not the server's own trouble. */
const REQUEST_FAULTS = new Set([400, 413, 414, 431]);

export class InvalidKeyError extends GeecacheError {
  constructor(message: string) {
    super('ERR_INVALID_KEY', message);
  }
}

export class UnknownGroupError extends GeecacheError {
  readonly group: string;
  constructor(group: string) {
    super('ERR_UNKNOWN_GROUP', `no such group: ${group}`);
    this.group = group;
  }
}

export class DuplicateGroupError extends GeecacheError {
  constructor(group: string) {
    super('ERR_DUPLICATE_GROUP', `group ${group} is already registered`);
  }
}

/** A configuration value is invalid; `setting` names the variable or flag. */
export class ConfigError extends GeecacheError {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super('ERR_CONFIG', `${setting}: ${message}`);
    this.setting = setting;
  }
}

/**
 * Maps an error to the HTTP status and message a client should see: a short phrase, never a stack,
 * a peer's or the origin's address, or an origin's body (those stay in err.message, for the log).
 */
export function httpStatusOf(err: unknown): { status: number; message: string } {
  if (err instanceof NotFoundError || err instanceof UnknownGroupError) return { status: 404, message: err.message };
  if (err instanceof InvalidKeyError) return { status: 400, message: err.message };
  if (err instanceof SourceError) return { status: err.status, message: err.publicMessage };
  if (err instanceof PeerUnavailableError) return { status: 502, message: "the key's owner is unavailable" };
  if (err instanceof PeerRefusedError) {
    return { status: REQUEST_FAULTS.has(err.status) ? 400 : 502, message: `the key's owner refused the request (${err.status})` };
  }
  return { status: 500, message: 'internal error' };
}
