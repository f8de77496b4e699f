// counters.ts declares a set of counters once: a const list of names gives both their type and their zeroed object.

/** Counters by name; all only ever grow. */
export type Counters<Name extends string> = Record<Name, number>;

export function zeroed<Name extends string>(names: readonly Name[]): Counters<Name> {
  // Object.fromEntries keeps the object in V8's fast mode whatever the count (adding keys one by
  // one turns it into a dictionary past about 16), so the hot path's `++` stays cheap.
  return Object.fromEntries(names.map((name) => [name, 0])) as Counters<Name>;
}
