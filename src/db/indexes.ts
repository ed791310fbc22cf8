import type { CreateIndexesOptions, Db, IndexSpecification } from 'mongodb';

/**
 * An index a query relies on. Each module declares the indexes of its own queries next to
 * them; start-up creates them all, idempotently.
 */
export interface IndexDeclaration {
  collection: string;
  key: IndexSpecification & Record<string, 1 | -1>;
  options?: CreateIndexesOptions & { name: string };
  /** Which query needs it, for the README's architecture table and for reviewers. */
  servesQuery: string;
}

const sameKey = (a: Record<string, unknown>, b: Record<string, unknown>) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Creates the declared indexes, one command each. Indexes this code owns (`owned` by name) that
 * are no longer declared, or are declared with another key, are dropped first: an upgraded
 * database keeps neither the cost of an index nobody queries nor a name clash.
 */
export async function ensureIndexes(db: Db, declarations: readonly IndexDeclaration[], owned: (name: string) => boolean = () => false): Promise<void> {
  const byCollection = new Map<string, IndexDeclaration[]>();
  for (const d of declarations) byCollection.set(d.collection, [...(byCollection.get(d.collection) ?? []), d]);
  for (const [name, declared] of byCollection) {
    const collection = db.collection(name);
    const existing = await collection.indexes().catch(() => []);
    for (const index of existing) {
      if (!index.name || !owned(index.name)) continue;
      const wanted = declared.find((d) => d.options?.name === index.name);
      if (!wanted || !sameKey(wanted.key, index.key)) await collection.dropIndex(index.name);
    }
    for (const declaration of declared) await collection.createIndex(declaration.key, declaration.options ?? {});
  }
}
