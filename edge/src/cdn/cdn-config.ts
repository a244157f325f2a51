/** The CDN list (`CDNS` var): a JSON array validated with zod, parsed once per distinct value. */
import * as z from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';

const httpUrl = z.url({ protocol: /^https?$/ });

const cdnSchema = z.strictObject({
  // Pathway ids go into quoted playlist attributes and JSON: keep them to a safe alphabet.
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1-32 letters, digits, "_", "." or "-"'),
  baseUrl: httpUrl.refine((u) => !/[?#]/.test(u), 'must not carry a query or fragment'),
  weight: z.number().positive().max(1_000_000),
  healthUrl: httpUrl,
});

/** One CDN viewers may reach edgelive through. */
export interface CdnConfig {
  /** Pathway id in playlists and steering manifests. */
  readonly id: string;
  /** Where the CDN serves the edge's `/live/...` paths, without a trailing slash. */
  readonly baseUrl: string;
  /** Relative share of viewers (weighted rendezvous hashing). */
  readonly weight: number;
  /** Probed by the CdnHealth Durable Object; any 2xx is healthy. */
  readonly healthUrl: string;
}

function fail(message: string): never {
  throw new EdgeliveError('internal', `invalid setting CDNS: ${message}`);
}

/** Parses `CDNS`; empty or unset means no CDN. Errors name the entry (index and id) and the field. */
export function parseCdnList(raw: string | undefined): readonly CdnConfig[] {
  if (raw === undefined || raw.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    fail('not valid JSON');
  }
  if (!Array.isArray(json)) fail('must be a JSON array of {"id","baseUrl","weight","healthUrl"}');
  const seen = new Set<string>();
  return Object.freeze(
    json.map((entry: unknown, index) => {
      const parsed = cdnSchema.safeParse(entry);
      const id = typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string' ? (entry as { id: string }).id : null;
      const where = `entry ${index}${id === null ? '' : ` (id "${id}")`}`;
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.length ? issue.path.join('.') : 'entry';
        fail(`${where} ${field}: ${issue?.message ?? 'invalid'}`);
      }
      if (seen.has(parsed.data.id)) fail(`${where} id: duplicate id`);
      seen.add(parsed.data.id);
      return Object.freeze({ ...parsed.data, baseUrl: parsed.data.baseUrl.replace(/\/+$/, '') });
    }),
  );
}

let memo: { raw: string | undefined; list: readonly CdnConfig[] } | undefined;

/** `parseCdnList` memoised on the raw string: vars do not change within an isolate. */
export function cdnList(raw: string | undefined): readonly CdnConfig[] {
  if (memo === undefined || memo.raw !== raw) memo = { raw, list: parseCdnList(raw) };
  return memo.list;
}
