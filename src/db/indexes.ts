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
  // One createIndex per index: FerretDB v1 drops the connection when a single createIndexes
  // command names several indexes that already exist. MongoDB is indifferent to either form.
  for (const declaration of declarations) {
    await db.collection(declaration.collection).createIndex(declaration.key, declaration.options ?? {});
  }
}
