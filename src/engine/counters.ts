// counters.ts declares a set of counters once: a const list of names gives both their type and their zeroed object.

/** Counters by name; all only ever grow. */
export type Counters<Name extends string> = Record<Name, number>;

export function zeroed<Name extends string>(names: readonly Name[]): Counters<Name> {
  // Added one by one to a literal, so V8 keeps the object in fast mode for the hot path's `++`.
  const counters = {} as Counters<Name>;
  for (const name of names) counters[name] = 0;
  return counters;
}
