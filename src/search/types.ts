import type { Document } from 'mongodb';

/** The security context's narrowing of what a request may see of a type (undefined: everything). */
export type AccessFilter = (type: string) => Document | undefined;
