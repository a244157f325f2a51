/**
 * Which receiver URLs an endpoint may have (server-side request forgery): https to a public host;
 * plain http only to loopback, and only in local development (`EDGELIVE_ENV=development`), so the
 * local stack's own receivers work. Pure.
 */

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** IPv4 literals in private, loopback, link-local, CGNAT or unspecified ranges (RFC 1918, 6598, 3927). */
function isPrivateIpv4(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(host);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(m[2]);
  return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
}

/** IPv6 literals that are loopback, unspecified, unique-local (fc00::/7), link-local (fe80::/10) or IPv4-mapped. */
function isPrivateIpv6(host: string): boolean {
  if (!host.startsWith('[')) return false;
  const addr = host.slice(1, -1).toLowerCase();
  return addr === '::1' || addr === '::' || /^f[cd]/.test(addr) || /^fe[89ab]/.test(addr) || addr.startsWith('::ffff:');
}

/** Names that only resolve inside a private network. */
function isInternalName(host: string): boolean {
  return host.endsWith('.internal') || host.endsWith('.local') || host.endsWith('.localdomain') || (!host.startsWith('[') && !host.includes('.'));
}

/** Why `url` may not receive webhooks in `environment`, or null when it may. */
export function webhookUrlRefusal(url: string, environment: 'development' | 'production'): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'url: not a valid URL';
  }
  if (u.username || u.password) return 'url: credentials in the URL are not allowed';
  const host = u.hostname.toLowerCase();
  const loopback = isLoopback(host);
  if (environment === 'development' && loopback) return null;
  if (u.protocol !== 'https:') return 'url: must be https (plain http only to loopback in local development)';
  if (loopback || isPrivateIpv4(host) || isPrivateIpv6(host) || isInternalName(host)) return `url: ${host} is not a public host`;
  return null;
}
