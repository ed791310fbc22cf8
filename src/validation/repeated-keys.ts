/**
 * JSON.parse keeps only the last of two members with the same name, while FHIR JSON allows each
 * name once in an object. The body parser marks an object that had a repeated name with this key,
 * holding the names; no client can send it (keys with "." are refused), it survives the copies
 * bundles make, and the structure walk reports it at the object's FHIRPath location.
 */
export const REPEATED_KEYS = '.repeated-keys';
