/** Characters of FHIR search syntax that RFC 3986 allows as they are in a query component. */
const KEPT = new Map([['%2C', ','], ['%3A', ':'], ['%2F', '/'], ['%40', '@'], ['%24', '$']]);

/**
 * The query string of a link the server writes (Bundle.link self, first, next...): names and
 * values percent-encoded, except `,` between alternatives, `:` of modifiers and times, `/` of
 * references, `@` and `$`, so that the link reads as the search it repeats
 * (`_type=Patient,Consent`, not `_type=Patient%2CConsent`: HL7's validator, among other readers,
 * takes a searchset's types from its self link without decoding it).
 */
export function queryString(entries: Iterable<readonly [string, string]>): string {
  const encode = (text: string) => encodeURIComponent(text).replace(/%2C|%3A|%2F|%40|%24/g, (escape) => KEPT.get(escape)!);
  return [...entries].map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&');
}
