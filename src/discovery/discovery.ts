// discovery.ts defines how a pod learns the current set of peers, whatever the source.

/** Receives every new peer list: sorted, de-duplicated peer base URLs, self included. */
export type PeersListener = (peers: readonly string[]) => void;

/**
 * A source of peer membership. Static lists and the Kubernetes EndpointSlice
 * watch both implement it, and one shared test suite runs against both.
 */
export interface Discovery {
  /** Starts delivering peer lists to `listener`. Idempotent; returns at once. */
  start(listener: PeersListener): void;
  /** Stops watching. Idempotent; safe before start(). */
  close(): Promise<void>;
  /** True once a first peer list has been delivered (drives /readyz). */
  readonly hasListed: boolean;
  /** The last peer list delivered, empty before the first. */
  readonly peers: readonly string[];
  /**
   * For sources set up asynchronously: settles once set up, rejects (with a ConfigError) when the
   * settings cannot work. Not about reaching peers: an unreachable API server is retried, not fatal.
   */
  readonly ready?: Promise<void>;
}
