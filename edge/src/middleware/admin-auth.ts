import type { MiddlewareHandler } from 'hono';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { hashKeySecret, timingSafeEqualHex } from '../../../shared/src/keys/stream-key.ts';
import type { AppEnv } from '../app-env.ts';
import type { Settings } from '../settings.ts';

/** The configured admin token, or a thrown 401 when the edge has none. */
export function requireAdminToken(settings: Settings): string {
  if (settings.adminToken === null) {
    console.error('ADMIN_TOKEN secret is not set: refusing every management call');
    throw new EdgeliveError('unauthorized', 'the management API is not configured on this edge');
  }
  return settings.adminToken;
}

/** Checks an `Authorization` header against the admin token; throws 401 `unauthorized` if it fails. */
export async function checkAdminBearer(settings: Settings, header: string | undefined): Promise<void> {
  const expected = requireAdminToken(settings);
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new EdgeliveError('unauthorized', 'missing bearer token');
  // Comparing fixed-length digests keeps the comparison constant-time whatever the token lengths.
  const [given, wanted] = await Promise.all([hashKeySecret(match[1]!), hashKeySecret(expected)]);
  if (!timingSafeEqualHex(given, wanted)) throw new EdgeliveError('unauthorized', 'invalid bearer token');
}

/** Requires `Authorization: Bearer <ADMIN_TOKEN>`; anything else is 401 `unauthorized`. */
export const adminAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  await checkAdminBearer(c.var.settings, c.req.header('authorization'));
  await next();
};
