// endpoint-slices.ts turns a Service's EndpointSlices into the canonical peer list (pure: no I/O).

import { canonicalPeers, peerUrl, schemeOf } from '../../engine/peer-url.js';

/**
 * The parts of a `discovery.k8s.io/v1` EndpointSlice we read. `V1EndpointSlice`
 * from @kubernetes/client-node is assignable to it; tests can use plain objects.
 */
export interface EndpointSliceLike {
  readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> | undefined } | undefined;
  readonly addressType?: string | undefined;
  readonly ports?: ReadonlyArray<{ readonly name?: string | undefined; readonly port?: number | undefined }> | undefined;
  readonly endpoints?: ReadonlyArray<EndpointLike> | undefined;
}

export interface EndpointLike {
  readonly addresses?: readonly string[] | undefined;
  readonly targetRef?: { readonly kind?: string | undefined } | undefined;
  readonly conditions?:
    | {
        readonly ready?: boolean | undefined;
        readonly serving?: boolean | undefined;
        readonly terminating?: boolean | undefined;
      }
    | undefined;
}

/** The label, and its value, of the slices Kubernetes' EndpointSlice controller makes from a Service's selector. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER = 'endpointslice-controller.k8s.io';

export interface PeersFromSlicesOptions {
  /** Name of the slice port peers listen on (the Service port's name). Default `peer`. */
  portName?: string;
  /** This pod's own base URL; always part of the result. */
  self: string;
}

export interface PeersFromSlices {
  /** Canonical peer list: sorted, de-duplicated, self included. */
  peers: string[];
  /** Whether self was among the ready endpoints (false while this pod is not ready yet). */
  selfListed: boolean;
  /** Names of slices that carry endpoints but no port named `portName` (misconfiguration hint). */
  slicesWithoutPort: string[];
  /**
   * Names of slices ignored as not the controller's: not labelled managed-by the EndpointSlice
   * controller, or listing an endpoint that is not a Pod. Anyone who may create an EndpointSlice
   * with the Service's name label could otherwise add an address that owns a share of the keys.
   */
  foreignSlices: string[];
}

/**
 * Merges all slices of one Service into peer base URLs `http://<address>:<port>`.
 *
 * Semantics follow the v1 EndpointConditions documentation: a nil `ready` is
 * "true", a nil `terminating` is "false". An endpoint counts when it is ready and
 * not terminating; terminating endpoints leave at once, even when `ready` is still
 * true (publishNotReadyAddresses Services keep terminating pods ready). Only the
 * first address is used: "No semantics are defined for additional addresses
 * beyond the first". IPv6 addresses are bracketed. Only the controller's slices, and in them only
 * endpoints that are Pods, count (see foreignSlices).
 */
export function peersFromSlices(slices: Iterable<EndpointSliceLike>, options: PeersFromSlicesOptions): PeersFromSlices {
  const portName = options.portName ?? 'peer';
  // The ring hashes URL strings: peers get this pod's own scheme, as every pod gives them the same.
  const scheme = schemeOf(options.self);
  const found: string[] = [];
  const slicesWithoutPort: string[] = [];
  const foreignSlices: string[] = [];
  for (const slice of slices) {
    const endpoints = slice.endpoints ?? [];
    if (endpoints.length === 0) continue;
    if (slice.metadata?.labels?.[MANAGED_BY_LABEL] !== CONTROLLER) {
      foreignSlices.push(slice.metadata?.name ?? '');
      continue;
    }
    const port = slice.ports?.find((p) => (p.name ?? '') === portName)?.port;
    if (port === undefined) {
      if (endpoints.length > 0) slicesWithoutPort.push(slice.metadata?.name ?? '');
      continue;
    }
    for (const endpoint of endpoints) {
      const address = endpoint.addresses?.[0];
      if (address === undefined || address === '') continue;
      if (!isCountedEndpoint(endpoint)) continue;
      if (endpoint.targetRef?.kind !== 'Pod') {
        if (!foreignSlices.includes(slice.metadata?.name ?? '')) foreignSlices.push(slice.metadata?.name ?? '');
        continue;
      }
      found.push(peerUrl(address, port, scheme));
    }
  }
  const selfListed = found.includes(options.self);
  return { peers: canonicalPeers([...found, options.self]), selfListed, slicesWithoutPort, foreignSlices };
}

/** True when an endpoint should receive peer traffic: ready (nil = true) and not terminating (nil = false). */
export function isCountedEndpoint(endpoint: EndpointLike): boolean {
  const ready = endpoint.conditions?.ready ?? true;
  const terminating = endpoint.conditions?.terminating ?? false;
  return ready && !terminating;
}
