// mget.ts holds the limits of a multi-get, POST /api/mget (http/mget-handler.ts); its answer is made of
// protocol/batch.ts's frames.

/** Most keys in one multi-get; more is a 413 before anything is loaded. */
export const MAX_MGET_KEYS = 1000;
/** Default bound of an answer's value bytes; the values past it are answered 413 each, the others still come. */
export const MAX_MGET_ANSWER_BYTES = 32 * 1024 * 1024;
