import type { PublishGrant, PublishRequest } from '../../../shared/src/schemas.ts';
import type { SourceInfo } from '../../../shared/src/types.ts';
import type { EdgeClient } from '../announce/edge-client.ts';
import { FlvMediaProbe, type ProbedMedia } from './flv-media-probe.ts';
import { pictureSizeFromSps } from './sps-picture-size.ts';

/** FLV held while the key is checked; a publisher sending more before the verdict is refused. */
export const MAX_PREAUTH_BUFFER_BYTES = 16 * 1024 * 1024;

/** What one held tag did: still probing, both sequence headers seen, or over the pre-auth limit. */
export type AdmissionPush = 'probing' | 'probed' | 'over_limit';

/**
 * A publish before the edge's verdict: probes the codecs from the FLV sequence headers and holds
 * every tag (at most MAX_PREAUTH_BUFFER_BYTES), so nothing reaches ffmpeg before the key is checked.
 */
export class PublishAdmission {
  readonly #probe = new FlvMediaProbe();
  #held: Buffer[] = [];
  #heldBytes = 0;
  #resolveProbed: () => void = () => {};
  readonly #probedOnce = new Promise<void>((resolve) => (this.#resolveProbed = resolve));

  /** Holds one tag and feeds the probe; `over_limit` means the publisher must be refused. */
  push(tag: Buffer): AdmissionPush {
    this.#probe.push(tag);
    this.#held.push(tag);
    this.#heldBytes += tag.length;
    if (this.#heldBytes > MAX_PREAUTH_BUFFER_BYTES) return 'over_limit';
    if (!this.#probe.complete) return 'probing';
    this.#resolveProbed();
    return 'probed';
  }

  /** Resolves once both sequence headers arrived, or after `timeoutMs` with whatever was seen. */
  async probed(timeoutMs: number): Promise<void> {
    const timer = setTimeout(this.#resolveProbed, timeoutMs);
    await this.#probedOnce;
    clearTimeout(timer);
  }

  /** What the probe saw, as the edge wants it. */
  source(): SourceInfo {
    return sourceFrom(this.#probe.result());
  }

  /** Hands the held tags over (ffmpeg's first input after the grant) and forgets them. */
  take(): Buffer[] {
    const held = this.#held;
    this.#held = [];
    return held;
  }
}

/** What the origin tells the edge about a source, from the probe's headers and metadata. */
export function sourceFrom(r: ProbedMedia): SourceInfo {
  const size = (r.metadata?.width && r.metadata.height ? r.metadata : undefined) ?? (r.avcSps ? pictureSizeFromSps(r.avcSps) : undefined);
  return {
    videoCodec: r.videoCodec,
    audioCodec: r.audioCodec,
    width: size?.width ?? 0,
    height: size?.height ?? 0,
    fps: r.metadata?.fps ?? 0,
    videoKbps: r.metadata?.videoKbps ?? 0,
  };
}

/**
 * The edge's publish request; with `previousEpoch`, a takeover of that epoch (new init,
 * discontinuity); `minMsn` > 0 when this node still holds segments of the stream numbered below it.
 */
export function publishRequest(streamKey: string, nodeId: string, source: SourceInfo, previousEpoch: number | undefined, minMsn = 0): PublishRequest {
  return { streamKey, nodeId, source, ...(previousEpoch ? { takeover: { previousEpoch } } : {}), ...(minMsn > 0 ? { minMsn } : {}) };
}

/** Asks the edge to admit a publish; throws the edge's coded refusal. */
export function requestGrant(edge: EdgeClient, streamKey: string, nodeId: string, source: SourceInfo, previousEpoch: number | undefined, minMsn = 0): Promise<PublishGrant> {
  return edge.publish(publishRequest(streamKey, nodeId, source, previousEpoch, minMsn));
}
