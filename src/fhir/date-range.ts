/**
 * A FHIR date, dateTime or instant read as the range of instants it covers, given its precision:
 * "2023" covers the whole year, "2023-03-04T10:00" the whole minute. Times without a zone are
 * read as UTC. Returns undefined when the text is not such a value.
 */
export interface InstantRange {
  low: Date;
  /** The last millisecond the value covers. */
  high: Date;
}

const PATTERN =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function parseInstantRange(text: string): InstantRange | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) return undefined;
  if (day !== undefined && (day < 1 || day > new Date(Date.UTC(year, month!, 0)).getUTCDate())) return undefined;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59))) return undefined;
  if (month === undefined) return span(Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1));
  if (day === undefined) return span(Date.UTC(year, month - 1, 1), Date.UTC(year, month, 1));
  if (h === undefined) return span(Date.UTC(year, month - 1, day), Date.UTC(year, month - 1, day + 1));
  const offsetMs = zoneOffsetMs(zone);
  const minuteStart = Date.UTC(year, month - 1, day, Number(h), Number(mi)) - offsetMs;
  if (s === undefined) return span(minuteStart, minuteStart + 60_000);
  const secondStart = minuteStart + Number(s) * 1000;
  if (frac === undefined) return span(secondStart, secondStart + 1000);
  const digits = Math.min(frac.length, 3);
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  return span(secondStart + ms, secondStart + ms + 10 ** (3 - digits));
}

function span(lowMs: number, endMs: number): InstantRange {
  return { low: new Date(lowMs), high: new Date(endMs - 1) };
}

function zoneOffsetMs(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const [hours, minutes] = zone.slice(1).split(':').map(Number);
  return sign * (hours * 60 + minutes) * 60_000;
}
