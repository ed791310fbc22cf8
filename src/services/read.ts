import { gone, notFound } from '../outcome.js';
import type { RequestContext } from '../security/context.js';
import type { StoredVersion } from '../store/index.js';
import type { ServiceDeps } from './deps.js';

/** read: the current version; 404 when never written or not visible to the caller, 410 when deleted. */
export async function readResource(deps: ServiceDeps, ctx: RequestContext, type: string, id: string): Promise<StoredVersion> {
  const version = await deps.store.forRequest(ctx).readCurrent(type, id);
  if (!version) throw notFound(`${type}/${id} is not known`);
  if (version.deleted) throw gone(`${type}/${id} was deleted (version ${version.versionId})`);
  return version;
}

/** vread: one version; 404 when that version does not exist, 410 when it is a delete marker. */
export async function readVersion(
  deps: ServiceDeps,
  ctx: RequestContext,
  type: string,
  id: string,
  versionText: string,
): Promise<StoredVersion> {
  const versionId = /^[1-9]\d{0,9}$/.test(versionText) ? Number(versionText) : undefined;
  const version = versionId === undefined ? undefined : await deps.store.forRequest(ctx).readVersion(type, id, versionId);
  if (!version) throw notFound(`${type}/${id} has no version "${versionText}"`);
  if (version.deleted) throw gone(`version ${versionId} of ${type}/${id} is a deletion`);
  return version;
}
