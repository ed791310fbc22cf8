import type { Db, Document } from 'mongodb';

/**
 * What searches need to know about the stored keys of a type, kept in one small document per
 * type and recorded before the document that changes them is written (so no search can see a
 * document with a bound that excludes it):
 * - the longest span (hi − lo) of each date parameter: a condition on one end of a stored date
 *   range then bounds the other end too (`hi ≥ X` implies `lo ≥ X − span`), so
 *   `birthdate=ge1950&birthdate=lt1951` walks one year of the `lo` index, not all before 1951;
 * - the lowest and highest `_id` ever stored: where a walk in `_id` order starts and ends (id-windows.ts).
 * A type's stats are used only once complete (measured over every document stored before the
 * stats were recorded, at start-up).
 */
const COLLECTION = 'search_key_stats';
/** How long id bounds are reused (they only place windows). */
const BOUNDS_TTL_MS = 10_000;

interface StatsDocument {
  _id: string;
  /** True once the stats cover every stored document of the type. */
  complete?: boolean;
  spans?: Record<string, number>;
  minId?: string;
  maxId?: string;
}

export interface KeyStatsView {
  spans: Record<string, number>;
  minId?: string;
  maxId?: string;
}

type Extracted = Record<string, unknown>;

/** Date hulls `{lo, hi}` of extracted or stored `sp` fields, by parameter code. */
function spansOf(sp: Extracted | undefined): [string, number][] {
  const out: [string, number][] = [];
  for (const [code, value] of Object.entries(sp ?? {})) {
    const range = value as { lo?: unknown; hi?: unknown };
    if (range && range.lo instanceof Date && range.hi instanceof Date) out.push([code, range.hi.getTime() - range.lo.getTime()]);
  }
  return out;
}

export class KeyStats {
  /** What this instance knows is recorded already (so most writes need no database call). */
  private readonly recorded = new Map<string, { spans: Map<string, number>; minId?: string; maxId?: string }>();
  private readonly cachedBounds = new Map<string, { minId?: string; maxId?: string; at: number }>();
  /**
   * The last update of each type's stats: the next one starts after it, knowing what it wrote. A
   * burst of random ids finds a new lowest or highest id at nearly every write; without this every
   * concurrent writer upserted the one stats document at once (a write-conflict storm).
   */
  private readonly updating = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Db,
    /** The time limit of the reads a search makes here (DB_QUERY_TIMEOUT_MS). */
    private readonly maxTimeMS = 10_000,
  ) {}

  private collection() {
    return this.db.collection<StatsDocument>(COLLECTION);
  }

  private known(type: string) {
    let entry = this.recorded.get(type);
    if (!entry) this.recorded.set(type, (entry = { spans: new Map() }));
    return entry;
  }

  /** Records what a document about to be written changes: wider date spans, a new lowest or highest id. */
  record(type: string, id: string, sp: Extracted | undefined): Promise<void> {
    return this.recordAll(type, [{ id, sp }]);
  }

  /** The same for many documents at once (one database call at most, after the type's previous one). */
  recordAll(type: string, docs: { id: string; sp: Extracted | undefined }[]): Promise<void> {
    const run = (this.updating.get(type) ?? Promise.resolve()).then(() => this.write(type, docs));
    const settled = run.catch(() => undefined);
    this.updating.set(type, settled);
    void settled.then(() => {
      if (this.updating.get(type) === settled) this.updating.delete(type);
    });
    return run;
  }

  private async write(type: string, docs: { id: string; sp: Extracted | undefined }[]): Promise<void> {
    const known = this.known(type);
    const wider = new Map<string, number>();
    let minId: string | undefined;
    let maxId: string | undefined;
    for (const { id, sp } of docs) {
      for (const [code, span] of spansOf(sp)) {
        if (span > Math.max(known.spans.get(code) ?? -1, wider.get(code) ?? -1)) wider.set(code, span);
      }
      if ((known.minId === undefined || id < known.minId) && (minId === undefined || id < minId)) minId = id;
      if ((known.maxId === undefined || id > known.maxId) && (maxId === undefined || id > maxId)) maxId = id;
    }
    if (wider.size === 0 && minId === undefined && maxId === undefined) return;
    const update: Document = {};
    const max: Document = Object.fromEntries([...wider].map(([code, span]) => [`spans.${code}`, span]));
    if (maxId !== undefined) max.maxId = maxId;
    if (Object.keys(max).length > 0) update.$max = max;
    if (minId !== undefined) update.$min = { minId };
    await this.collection().updateOne({ _id: type }, update, { upsert: true });
    for (const [code, span] of wider) known.spans.set(code, span);
    if (minId !== undefined) known.minId = minId;
    if (maxId !== undefined) known.maxId = maxId;
  }

  /** The type's stats as stored now (one read), or undefined while they are not complete. */
  async read(type: string): Promise<KeyStatsView | undefined> {
    const doc = await this.collection().findOne({ _id: type }, { maxTimeMS: this.maxTimeMS });
    return doc?.complete ? { spans: doc.spans ?? {}, minId: doc.minId, maxId: doc.maxId } : undefined;
  }

  /**
   * Where a type's ids begin and end, reused for a few seconds: they only place windows
   * (id-windows.ts), whose last window is open, so stale bounds cost time, never rows. (No
   * collection size: SecantusDB's estimatedDocumentCount counts every document, 2.6 s at 100,000
   * under load, which stalled the searches that waited on it.)
   */
  async bounds(type: string): Promise<{ minId?: string; maxId?: string }> {
    const cached = this.cachedBounds.get(type);
    if (cached && Date.now() - cached.at < BOUNDS_TTL_MS) return cached;
    const stats = await this.read(type);
    const fresh = { minId: stats?.minId, maxId: stats?.maxId, at: Date.now() };
    this.cachedBounds.set(type, fresh);
    return fresh;
  }

  /** At start-up: measures the stats of types stored before they were recorded (one pass over each). */
  async complete(types: string[]): Promise<void> {
    for (const type of types) {
      const existing = await this.collection().findOne({ _id: type });
      if (existing?.complete) continue;
      const longest = new Map<string, number>();
      let minId: string | undefined;
      let maxId: string | undefined;
      const cursor = this.db.collection(type).find({}, { projection: { sp: 1 } });
      for await (const doc of cursor as AsyncIterable<Document>) {
        for (const [code, span] of spansOf(doc.sp)) longest.set(code, Math.max(span, longest.get(code) ?? 0));
        const id = String(doc._id);
        if (minId === undefined || id < minId) minId = id;
        if (maxId === undefined || id > maxId) maxId = id;
      }
      const max: Document = Object.fromEntries([...longest].map(([code, span]) => [`spans.${code}`, span]));
      if (maxId !== undefined) max.maxId = maxId;
      const update: Document = { $set: { complete: true } };
      if (Object.keys(max).length > 0) update.$max = max;
      if (minId !== undefined) update.$min = { minId };
      await this.collection().updateOne({ _id: type }, update, { upsert: true });
    }
  }
}
