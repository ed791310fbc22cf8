import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent } from 'fhir/r4';
import type { IncomingMessage } from 'node:http';
import Provider, { errors } from 'oidc-provider';
import { buildSignInEvent } from '../security/audit-event.js';
import type { ClientRegistry } from './clients.js';
import { BREAK_THE_GLASS } from './grants.js';
import { consentPage, errorPage, PAGE_HEADERS, signInPage } from './pages.js';
import type { SignInThrottle } from './sign-in-throttle.js';
import { scopeList } from './smart-scopes.js';
import { patientOf, type UserDirectory } from './users.js';

export interface InteractionDeps {
  provider: Provider;
  users: UserDirectory;
  clients: ClientRegistry;
  mountPath: string;
  throttle: SignInThrottle;
  /** Writes a sign-in's AuditEvent before the page is answered (undefined: AUDIT_TRAIL=off). */
  audit?: (event: AuditEvent) => Promise<void>;
  baseUrl: string;
  /** Makes a raw request look as it does to the provider's own routes (mount.ts). */
  asPublic(raw: IncomingMessage): IncomingMessage;
}

const FORM_LIMIT_BYTES = 8 * 1024;
const UID = /^[A-Za-z0-9_-]{1,64}$/;

type UidRequest = FastifyRequest<{ Params: { uid: string }; Body: Record<string, string> | undefined }>;

function field(request: UidRequest, name: string): string {
  const value = request.body?.[name];
  return typeof value === 'string' ? value.slice(0, 1024) : '';
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html);
}

/**
 * The sign-in and consent pages oidc-provider sends the browser to (`interactions.url`):
 *   GET  {mount}/interaction/:uid          the page the interaction needs (sign-in or consent)
 *   POST {mount}/interaction/:uid/login    username + password
 *   POST {mount}/interaction/:uid/confirm  allow the requested scopes
 *   POST {mount}/interaction/:uid/abort    cancel or deny: the app gets access_denied
 * The interaction is the one named by the provider's signed, path-bound cookie, and it must be
 * the one in the URL: a form cannot be replayed into another browser's sign-in.
 */
export function interactionRoutes({ provider, users, clients, mountPath, throttle, audit, baseUrl, asPublic }: InteractionDeps) {
  const details = async (request: UidRequest, reply: FastifyReply) => {
    const interaction = await provider.interactionDetails(asPublic(request.raw), reply.raw);
    if (!UID.test(request.params.uid) || interaction.uid !== request.params.uid) {
      throw new errors.SessionNotFound('this sign-in page belongs to another sign-in');
    }
    return interaction;
  };
  const clientName = async (clientId: unknown) => {
    const client = typeof clientId === 'string' ? await clients.byId(clientId) : undefined;
    return client?.client_name ?? client?.client_id ?? 'An application';
  };
  const breaksGlass = async (clientId: unknown) => {
    const client = typeof clientId === 'string' ? await clients.byId(clientId) : undefined;
    return client?.purpose_of_use?.includes(BREAK_THE_GLASS) === true;
  };
  const finish = async (request: UidRequest, reply: FastifyReply, result: Parameters<Provider['interactionResult']>[2], merge = true) => {
    const returnTo = await provider.interactionResult(asPublic(request.raw), reply.raw, result, { mergeWithLastSubmission: merge });
    return reply.code(303).header('cache-control', 'no-store').redirect(returnTo, 303);
  };
  // Provider errors (an expired or foreign interaction...) are the user's to see, as a page; others are ours (500).
  const guarded = (handler: (request: UidRequest, reply: FastifyReply) => Promise<FastifyReply>) => async (request: UidRequest, reply: FastifyReply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      if (!(error instanceof errors.OIDCProviderError)) throw error;
      request.log.info({ error: error.error }, 'sign-in interaction refused');
      return sendPage(reply, error.statusCode ?? 400, errorPage(error.error_description ?? 'This sign-in cannot go on.'));
    }
  };

  return async (app: FastifyInstance) => {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    const path = (uid: string) => `${mountPath}/interaction/${uid}`;

    app.get('/interaction/:uid', guarded(async (request, reply) => {
      const interaction = await details(request, reply);
      const name = await clientName(interaction.params.client_id);
      if (interaction.prompt.name === 'login') return sendPage(reply, 200, signInPage({ path: path(interaction.uid), clientName: name }));
      if (interaction.prompt.name === 'consent') {
        const scopes = scopeList(interaction.params.scope);
        return sendPage(reply, 200, consentPage({ path: path(interaction.uid), clientName: name, scopes, breakGlass: await breaksGlass(interaction.params.client_id) }));
      }
      throw new errors.InvalidRequest(`this server does not handle the ${interaction.prompt.name} step`);
    }));

    app.post('/interaction/:uid/login', guarded(async (request, reply) => {
      const interaction = await details(request, reply);
      if (interaction.prompt.name !== 'login') throw new errors.InvalidRequest('this sign-in is past signing in');
      const username = field(request, 'username');
      const auditSignIn = async (status: number, fhirUser?: string) => {
        const clientId = typeof interaction.params.client_id === 'string' ? interaction.params.client_id : undefined;
        await audit?.(buildSignInEvent({ username, fhirUser, clientId, status, address: request.ip, requestId: request.id, baseUrl }));
      };
      const locked = await throttle.lockedFor(username);
      if (locked > 0) {
        request.log.info('sign-in refused: too many failed attempts for the username');
        await auditSignIn(429);
        const name = await clientName(interaction.params.client_id);
        const error = `Too many failed sign-ins with this username: try again in ${locked} minute${locked === 1 ? '' : 's'}.`;
        return sendPage(reply.header('retry-after', String(locked * 60)), 429, signInPage({ path: path(interaction.uid), clientName: name, username, error }));
      }
      const user = await users.signIn(username, field(request, 'password'));
      if (!user) {
        await throttle.failed(username);
        await auditSignIn(401);
        request.log.info('sign-in refused: wrong username or password');
        const name = await clientName(interaction.params.client_id);
        return sendPage(reply, 401, signInPage({ path: path(interaction.uid), clientName: name, username, error: 'Wrong username or password.' }));
      }
      await throttle.succeeded(username);
      await auditSignIn(303, user.fhirUser);
      return finish(request, reply, { login: { accountId: user.id } });
    }));

    app.post('/interaction/:uid/confirm', guarded(async (request, reply) => {
      const interaction = await details(request, reply);
      if (interaction.prompt.name !== 'consent' || !interaction.session) throw new errors.InvalidRequest('there is nothing to allow in this sign-in');
      const { accountId } = interaction.session;
      const user = await users.byId(accountId);
      if (scopeList(interaction.params.scope).includes('launch/patient') && (!user || !patientOf(user))) {
        return finish(request, reply, { error: 'access_denied', error_description: 'launch/patient was asked for, but this user is not linked to a Patient' }, false);
      }
      if ((await breaksGlass(interaction.params.client_id)) && !user?.breakGlass) {
        return finish(request, reply, { error: 'access_denied', error_description: 'this app is for break-the-glass access, which this user is not allowed' }, false);
      }
      const grant = interaction.grantId
        ? await provider.Grant.find(interaction.grantId)
        : new provider.Grant({ accountId, clientId: String(interaction.params.client_id) });
      if (!grant) throw new errors.SessionNotFound('the grant of this sign-in has expired');
      const missing = interaction.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
      const grantId = await grant.save();
      return finish(request, reply, { consent: { grantId } });
    }));

    app.post('/interaction/:uid/abort', guarded(async (request, reply) => {
      await details(request, reply);
      return finish(request, reply, { error: 'access_denied', error_description: 'the user did not allow access' }, false);
    }));
  };
}
