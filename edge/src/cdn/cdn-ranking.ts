/** Which CDNs a viewer should use, best first. Pure. */
import { pickNode, rankNodes } from '../../../shared/src/hashing/rendezvous.ts';
import type { CdnConfig } from './cdn-config.ts';

/** The healthy CDNs (not in `down`) ranked for `key` by weighted rendezvous hashing. */
export function rankHealthyCdns(key: string, cdns: readonly CdnConfig[], down: ReadonlySet<string>): CdnConfig[] {
  return rankNodes(key, down.size === 0 ? cdns : cdns.filter((c) => !down.has(c.id)));
}

/** The first-ranked healthy CDN for `key`, or undefined when every CDN is down. */
export function firstHealthyCdn(key: string, cdns: readonly CdnConfig[], down: ReadonlySet<string>): CdnConfig | undefined {
  return pickNode(key, down.size === 0 ? cdns : cdns.filter((c) => !down.has(c.id)));
}
