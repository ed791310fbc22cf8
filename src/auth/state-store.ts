import type { Collection, Db } from 'mongodb';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { IndexDeclaration } from '../db/indexes.js';
import { providerMetadata, type ClientRegistry } from './clients.js';

/**
 * What the authorization server must remember between requests (sessions, interactions, grants,
 * authorization codes, refresh tokens, client-assertion ids seen): one MongoDB collection, so
 * restarts keep sessions and every instance on the database sees the same state. Clients are
 * not stored here: they come from the clients file.
 *
 * The provider's payload is kept as a JSON string: it carries request parameters (the `claims`
 * parameter is a client's JSON object), and nothing of a request may become document structure.
 */
const COLLECTION = 'authServerState';

interface StateDocument {
  _id: string;
  kind: string;
  payload: string;
  grantId?: string;
  uid?: string;
  userCode?: string;
  /** Removed by the TTL index; reads also ignore it once past. */
  expiresAt?: Date;
}

export const STATE_INDEXES: IndexDeclaration[] = [
  { collection: COLLECTION, key: { kind: 1, uid: 1 }, options: { name: 'kind_uid', sparse: true }, servesQuery: 'session by uid (findByUid)' },
  { collection: COLLECTION, key: { kind: 1, userCode: 1 }, options: { name: 'kind_userCode', sparse: true }, servesQuery: 'device flow by user code (findByUserCode)' },
  { collection: COLLECTION, key: { grantId: 1 }, options: { name: 'grantId', sparse: true }, servesQuery: 'revoke every token of a grant (revokeByGrantId)' },
  { collection: COLLECTION, key: { expiresAt: 1 }, options: { name: 'expiresAt_ttl', expireAfterSeconds: 0 }, servesQuery: 'expiry of state (TTL)' },
];

function payloadOf(document: StateDocument | null): AdapterPayload | undefined {
  if (!document || (document.expiresAt && document.expiresAt.getTime() <= Date.now())) return undefined;
  return JSON.parse(document.payload) as AdapterPayload;
}

/** oidc-provider's adapter class over the database (and the clients file for kind "Client"). */
export function stateAdapter(db: Db, clients: ClientRegistry): new (kind: string) => Adapter {
  const collection: Collection<StateDocument> = db.collection<StateDocument>(COLLECTION);
  return class StateAdapter implements Adapter {
    constructor(private readonly kind: string) {}

    private key(id: string): string {
      return `${this.kind}:${String(id)}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const document: Omit<StateDocument, '_id'> = { kind: this.kind, payload: JSON.stringify(payload) };
      if (typeof payload.grantId === 'string') document.grantId = payload.grantId;
      if (typeof payload.uid === 'string') document.uid = payload.uid;
      if (typeof payload.userCode === 'string') document.userCode = payload.userCode;
      if (typeof expiresIn === 'number') document.expiresAt = new Date(Date.now() + expiresIn * 1000);
      await collection.replaceOne({ _id: this.key(id) }, document, { upsert: true });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.kind === 'Client') {
        const client = await clients.byId(String(id));
        return client ? (providerMetadata(client) as AdapterPayload) : undefined;
      }
      return payloadOf(await collection.findOne({ _id: this.key(id) }));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return payloadOf(await collection.findOne({ kind: this.kind, uid: String(uid) }));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return payloadOf(await collection.findOne({ kind: this.kind, userCode: String(userCode) }));
    }

    /** Marks a code or refresh token used; the provider refuses (and revokes the grant of) a second use. */
    async consume(id: string): Promise<void> {
      const document = await collection.findOne({ _id: this.key(id) });
      const payload = payloadOf(document);
      if (!payload) return;
      await collection.updateOne({ _id: this.key(id), payload: document!.payload }, { $set: { payload: JSON.stringify({ ...payload, consumed: Math.floor(Date.now() / 1000) }) } });
    }

    async destroy(id: string): Promise<void> {
      await collection.deleteOne({ _id: this.key(id) });
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await collection.deleteMany({ grantId: String(grantId) });
    }
  };
}
