// until-aborted.ts lets one caller stop waiting for a shared promise when its own signal aborts.

/**
 * `answer`, or the signal's reason once it aborts first; `onAbort` runs then (the caller's leaving).
 * The listener goes when either settles, so a long-lived signal does not collect one per call.
 */
export function untilAborted<T>(answer: Promise<T>, signal: AbortSignal, onAbort?: () => void): Promise<T> {
  if (signal.aborted) {
    answer.catch(() => undefined);
    onAbort?.();
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = () => {
      onAbort?.();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', aborted, { once: true });
    answer.then(
      (value) => {
        signal.removeEventListener('abort', aborted);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', aborted);
        reject(err as Error);
      },
    );
  });
}
