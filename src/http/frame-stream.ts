// frame-stream.ts writes a batch answer's frames to its response as they become ready, without copying values,
// only as fast as the client reads, and within the answer's byte budget.
import type { ServerResponse } from 'node:http';
import { BATCH_ANSWER_FULL_STATUS, encodeFrame, encodeFrameHeader, encodeValueFrameHeader, HEARTBEAT_FRAME, type ValueMeta } from '../protocol/batch.js';

export interface FrameStreamOptions {
  /** Value bytes the answer may carry; past them a key is answered with `full`. */
  maxValueBytes: number;
  /**
   * The frame of a key past the budget. Default: a peer's batch answer's, BATCH_ANSWER_FULL_STATUS
   * (the asking pod loads the key itself).
   */
  full?: { status: number; message: string };
  /** How long the client may leave written bytes unread before the response is destroyed. */
  stallTimeoutMs: number;
}

/**
 * A value frame goes out as its header then the cached bytes themselves, so the answer holds
 * references to values, not copies. While the socket's buffer is full (write() returned false),
 * frames wait here, and only until 'drain'; a client that reads nothing for stallTimeoutMs loses its
 * response. The byte budget bounds both what is written and what waits.
 */
export class FrameStream {
  private readonly res: ServerResponse;
  private readonly options: FrameStreamOptions;
  private readonly waiting: Uint8Array[] = [];
  private valueBytes = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private started = false;
  /** Keys answered with the `full` frame because the budget was spent. */
  cut = 0;
  /** The client stopped reading for stallTimeoutMs and the response was destroyed. */
  stalled = false;

  constructor(res: ServerResponse, options: FrameStreamOptions) {
    this.res = res;
    this.options = options;
    res.on('drain', this.flush);
    res.once('close', () => clearTimeout(this.stallTimer));
  }

  /**
   * Sends the status line and `headers`, then whatever frames were given so far; with `withLength`,
   * those frames are the whole body and its length goes in the headers.
   */
  start(headers: string[], withLength: boolean): void {
    if (this.res.destroyed) return;
    const length = withLength ? this.waiting.reduce((sum, chunk) => sum + chunk.byteLength, 0) : undefined;
    this.res.writeHead(200, length === undefined ? headers : [...headers, 'content-length', String(length)]);
    this.started = true;
    if (this.waiting.length === 0 && !withLength) this.res.flushHeaders();
    this.flush();
  }

  /** Whether a value of `length` bytes still fits the answer's budget; counts it when it does. */
  fits(length: number): boolean {
    if (this.valueBytes + length > this.options.maxValueBytes) return false;
    this.valueBytes += length;
    return true;
  }

  /** The value's frame, or the `full` frame once the budget is spent; returns whether the value went. */
  value(index: number, bytes: Buffer, meta: ValueMeta | undefined): boolean {
    if (!this.fits(bytes.byteLength)) {
      this.full(index);
      return false;
    }
    this.send(meta ? encodeValueFrameHeader(index, bytes.byteLength, meta) : encodeFrameHeader(index, 200, bytes.byteLength), bytes);
    return true;
  }

  /** The frame of a key past the budget: the client asks for it elsewhere. */
  full(index: number): void {
    this.cut++;
    const full = this.options.full ?? { status: BATCH_ANSWER_FULL_STATUS, message: `batch answer past ${this.options.maxValueBytes} value bytes: ask for this key alone` };
    this.error(index, full.status, full.message);
  }

  error(index: number, status: number, message: string): void {
    this.send(encodeFrame(index, status, Buffer.from(message, 'utf8')));
  }

  /** A heartbeat goes out only when nothing waits: a client that is not reading needs none. */
  heartbeat(): void {
    if (this.waiting.length === 0 && !this.res.destroyed && !this.res.writableNeedDrain) this.res.write(HEARTBEAT_FRAME);
  }

  /** Ends the response once every waiting frame is written (frames given before start() wait for it). */
  end(): void {
    this.ending = true;
    this.flush();
  }

  private send(...chunks: Uint8Array[]): void {
    if (this.res.destroyed) return;
    this.waiting.push(...chunks);
    this.flush();
  }

  private readonly flush = (): void => {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (this.res.destroyed || !this.started) return;
    while (this.waiting.length > 0) {
      if (this.res.writableNeedDrain) {
        this.stallTimer = setTimeout(this.stall, this.options.stallTimeoutMs);
        return;
      }
      this.res.write(this.waiting.shift()!);
    }
    if (this.ending && !this.res.writableEnded) this.res.end();
  };

  private readonly stall = (): void => {
    this.stalled = true;
    this.res.destroy();
  };
}
