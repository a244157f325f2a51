import { initFileName } from '../../../shared/src/internal-api.ts';
import type { IngestMetrics, RenditionInfo, SourceInfo } from '../../../shared/src/types.ts';
import { codecsAttribute, type InitInfo } from '../../../shared/src/mp4/fmp4-init-info.ts';
import type { TranscodePlan } from '../transcode/ladder-plan.ts';
import type { TranscodeProgress } from '../transcode/progress-parser.ts';

/** What the edge is told about a rendition, from its init segment, the plan and the source. */
export function renditionInfo(epoch: number, rendition: string, info: InitInfo, plan: TranscodePlan, source: SourceInfo): RenditionInfo {
  const video = info.tracks.find((t) => t.kind === 'video');
  const planned = plan.renditions.find((r) => r.name === rendition)!;
  return {
    name: rendition,
    width: video?.width || source.width,
    height: video?.height || planned.height,
    codecs: codecsAttribute(info),
    frameRate: source.fps,
    declaredBandwidth: ((planned.passthrough && source.videoKbps ? source.videoKbps : planned.videoKbps) + plan.audioKbps) * 1000,
    initFile: initFileName(epoch),
  };
}

/** Ingest health for a heartbeat: the bitrate of the bytes received in one period, and ffmpeg's progress. */
export function ingestMetrics(ingestBytes: number, periodMs: number, progress: TranscodeProgress | undefined): IngestMetrics {
  return {
    bitrateKbps: Math.round((ingestBytes * 8) / 1000 / (periodMs / 1000)),
    fps: progress?.fps ?? 0,
    speed: progress?.speed ?? 0,
    droppedFrames: Math.round(progress?.droppedFrames ?? 0),
  };
}
