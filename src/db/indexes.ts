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

export async function ensureIndexes(db: Db, declarations: readonly IndexDeclaration[]): Promise<void> {
  const byCollection = new Map<string, IndexDeclaration[]>();
  for (const declaration of declarations) {
    const list = byCollection.get(declaration.collection) ?? [];
    list.push(declaration);
    byCollection.set(declaration.collection, list);
  }
  for (const [collection, list] of byCollection) {
    await db.collection(collection).createIndexes(
      list.map((d) => ({ key: d.key, ...(d.options ?? {}) })),
    );
  }
}
