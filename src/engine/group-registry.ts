// group-registry.ts holds the groups one cache node serves, by name, and what they share.
import { DuplicateGroupError } from '../errors.js';
import { SegmentLedger } from '../memory/segment-ledger.js';
import { Group, type GroupOptions } from './group.js';

/** What every group of a registry shares unless its own options say otherwise. */
export type GroupDefaults = Pick<GroupOptions, 'peers' | 'hotCache' | 'hotCacheQps' | 'random' | 'now' | 'clock' | 'observer' | 'segmentLedger'>;

/** The groups one node owns. No process-wide registry: each node makes its own. */
export class GroupRegistry {
  private readonly groups = new Map<string, Group>();
  /** Where the groups' store segments are counted: one ledger per node, so its stats are the node's. */
  readonly segmentLedger: SegmentLedger;
  private readonly defaults: GroupDefaults;

  constructor(defaults: GroupDefaults = {}) {
    this.segmentLedger = defaults.segmentLedger ?? new SegmentLedger();
    this.defaults = { ...defaults, segmentLedger: this.segmentLedger };
  }

  /** Creates and registers a group; a second group with the same name is an error. */
  create(options: GroupOptions): Group {
    if (this.groups.has(options.name)) throw new DuplicateGroupError(options.name);
    const group = new Group({ ...this.defaults, ...options });
    this.groups.set(group.name, group);
    return group;
  }

  get(name: string): Group | undefined {
    return this.groups.get(name);
  }

  /** Stops every group's loads (Group.stopLoads): the node is shutting down. */
  stopLoads(): void {
    for (const group of this.groups.values()) group.stopLoads();
  }

  /** Groups in creation order; the first is the API's default group. */
  list(): Group[] {
    return [...this.groups.values()];
  }
}
