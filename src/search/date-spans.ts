import type { Db, Document } from 'mongodb';

/**
 * The longest span (hi − lo) stored for each date parameter of a type. A condition on one end
 * of a stored date range then bounds the other end too: `hi ≥ X` implies `lo ≥ X − span`, so
 * `birthdate=ge1950&birthdate=lt1951` walks one year of the `lo` index instead of everything
 * before 1951 (see plan.ts). A span is recorded before the document that has it is written,
 * so no search can see the document with a bound that excludes it; a type's spans are used only
 * once they are complete (measured over every document stored before this was recorded).
 */
const COLLECTION = 'search_date_spans';

interface SpansDocument {
  _id: string;
  /** True once the spans cover every stored document of the type. */
  complete?: boolean;
  spans: Record<string, number>;
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

export class DateSpans {
  /** What this instance knows is recorded at least (so most writes need no database call). */
  private readonly recorded = new Map<string, number>();

  constructor(private readonly db: Db) {}

  private collection() {
    return this.db.collection<SpansDocument>(COLLECTION);
  }

  /** Records the spans of a document's `sp` fields that exceed what is known to be recorded. */
  async record(type: string, sp: Extracted | undefined): Promise<void> {
    const wider = spansOf(sp).filter(([code, span]) => span > (this.recorded.get(`${type}.${code}`) ?? -1));
    if (wider.length === 0) return;
    await this.collection().updateOne(
      { _id: type },
      { $max: Object.fromEntries(wider.map(([code, span]) => [`spans.${code}`, span])) },
      { upsert: true },
    );
    for (const [code, span] of wider) this.recorded.set(`${type}.${code}`, Math.max(span, this.recorded.get(`${type}.${code}`) ?? -1));
  }

  /** The longest spans of the type as stored now (one read), or undefined while they are not complete. */
  async longest(type: string): Promise<Record<string, number> | undefined> {
    const doc = await this.collection().findOne({ _id: type });
    return doc?.complete ? doc.spans : undefined;
  }

  /** At start-up: measures the spans of types stored before they were recorded (one pass over each). */
  async complete(types: string[]): Promise<void> {
    for (const type of types) {
      const existing = await this.collection().findOne({ _id: type });
      if (existing?.complete) continue;
      const longest = new Map<string, number>();
      const cursor = this.db.collection(type).find({ deleted: false }, { projection: { sp: 1 } });
      for await (const doc of cursor as AsyncIterable<Document>) {
        for (const [code, span] of spansOf(doc.sp)) longest.set(code, Math.max(span, longest.get(code) ?? 0));
      }
      const spans = Object.fromEntries([...longest].map(([code, span]) => [`spans.${code}`, span]));
      const update = longest.size > 0 ? { $max: spans, $set: { complete: true } } : { $set: { complete: true } };
      await this.collection().updateOne({ _id: type }, update, { upsert: true });
    }
  }
}
