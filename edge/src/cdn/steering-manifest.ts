/** The HLS Content Steering manifest (steering server response). Pure. */

/** The JSON a steering server answers (hls.js `SteeringManifest`; VERSION must be 1). */
export interface SteeringManifest {
  VERSION: 1;
  /** Seconds until the player reloads the manifest. */
  TTL: number;
  'RELOAD-URI': string;
  /** Pathway ids, most preferred first. */
  'PATHWAY-PRIORITY': string[];
}

/** Builds the manifest for one viewer's priority list. */
export function steeringManifest(input: { ttlSeconds: number; reloadUri: string; priority: readonly string[] }): SteeringManifest {
  return { VERSION: 1, TTL: input.ttlSeconds, 'RELOAD-URI': input.reloadUri, 'PATHWAY-PRIORITY': [...input.priority] };
}
