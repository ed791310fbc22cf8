import { parseScope } from '../security/scopes.js';

/** Text made safe for HTML content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Headers of every page: nothing loads from elsewhere, no framing, no caching of a page holding a form. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}
label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}
button{margin:1rem .5rem 0 0;padding:.4rem 1rem}.error{color:#a00}li{margin:.3rem 0}code{background:#eee;padding:0 .2rem}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const ACTIONS: Record<string, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };
const STATIC_MEANINGS: Record<string, string> = {
  openid: 'confirm who you are to the app',
  fhirUser: 'know which record in this server is yours',
  'launch/patient': 'know which patient record to open',
  offline_access: 'keep access when you are not using it (until you sign out of it or it expires)',
};

/** What a scope lets the app do, in words a person signing in can judge. */
export function describeScope(scope: string): string {
  if (STATIC_MEANINGS[scope]) return STATIC_MEANINGS[scope];
  const parsed = parseScope(scope);
  if (!parsed) return 'an unknown permission';
  const actions = ['c', 'r', 'u', 'd', 's'].filter((l) => parsed.interactions.has(l as never)).map((l) => ACTIONS[l]).join(', ');
  const what = parsed.type === '*' ? 'all kinds of records' : `${parsed.type} records`;
  const whose = parsed.context === 'patient' ? 'of your patient record' : parsed.context === 'user' ? 'that you may see' : 'of every patient';
  return `${actions} ${what} ${whose}${parsed.query ? ' (only those matching a filter)' : ''}`;
}

/** The sign-in form; `path` is the interaction's own path (`/auth/interaction/<uid>`). */
export function signInPage(input: { path: string; clientName: string; error?: string; username?: string }): string {
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '';
  return page(
    'Sign in',
    `<p><strong>${escapeHtml(input.clientName)}</strong> asks you to sign in.</p>${error}` +
      `<form method="post" action="${escapeHtml(input.path)}/login">` +
      `<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required value="${escapeHtml(input.username ?? '')}">` +
      `<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>` +
      `<button type="submit">Sign in</button></form>` +
      `<form method="post" action="${escapeHtml(input.path)}/abort"><button type="submit">Cancel</button></form>`,
  );
}

/** The scopes the app asks for, to allow or deny. */
export function consentPage(input: { path: string; clientName: string; scopes: string[]; breakGlass?: boolean }): string {
  const items = input.scopes.map((s) => `<li><code>${escapeHtml(s)}</code>: ${escapeHtml(describeScope(s))}</li>`).join('');
  const warning = input.breakGlass
    ? '<p class="error" role="alert"><strong>Break-the-glass access</strong>: you will see restricted records and those patients\' ' +
      'privacy choices withhold, and every access is recorded for review. Allow only in an emergency.</p>'
    : '';
  return page(
    'Allow access?',
    `${warning}<p><strong>${escapeHtml(input.clientName)}</strong> asks to:</p><ul>${items}</ul>` +
      `<form method="post" action="${escapeHtml(input.path)}/confirm"><button type="submit" id="allow">Allow</button></form>` +
      `<form method="post" action="${escapeHtml(input.path)}/abort"><button type="submit" id="deny">Deny</button></form>`,
  );
}

export function errorPage(message: string): string {
  return page('Sign-in problem', `<p class="error">${escapeHtml(message)}</p><p>Go back to the app and start again.</p>`);
}
