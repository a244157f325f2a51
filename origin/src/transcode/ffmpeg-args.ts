import type { TranscodePlan } from './ladder-plan.ts';

/** One ffmpeg job's options as plain values (input, filter graph, one entry per output). */
export interface FfmpegArgs {
  inputOptions: string[];
  complexFilter: string | undefined;
  outputs: { rendition: string; url: string; options: string[] }[];
}

/** Settings that shape the encode but not the ladder. */
export interface EncodeSettings {
  segmentSeconds: number;
  /** x264 preset; `veryfast` keeps a 1080p ladder real-time on a few cores. */
  preset: string;
  /** Where rendition `name` is written (a `unix:` socket URL in production). */
  outputUrl: (rendition: string) => string;
  /** A small JPEG of the picture every `everySeconds`, written as MJPEG frames to `url` (thumbnails, recording posters). */
  thumbnail?: { url: string; everySeconds: number; height: number };
  /** LL-HLS part target in seconds: ffmpeg then fragments at most this long (null or absent: one fragment per GOP). */
  partSeconds?: number | null;
}

/** The output name of the thumbnail stream in `FfmpegArgs.outputs`; a leading `_` no rendition name can take. */
export const THUMBNAIL_OUTPUT = '_thumbnail';

/**
 * The thumbnail branch: its own read of the decoded source, the first frame and then one every N
 * seconds, scaled down, JPEG. `select`, not `fps=1/N`: the fps filter holds its first frame until it
 * has seen half a period of input, and until then ffmpeg 5.1 reports no progress at all for any
 * output (measured: first -progress line 2.5 s later), which the stall watch takes for a hung ffmpeg.
 */
function thumbnailOutput(t: NonNullable<EncodeSettings['thumbnail']>): { filter: string; output: FfmpegArgs['outputs'][number] } {
  return {
    filter: `[0:v:0]select='isnan(prev_selected_t)+gte(t-prev_selected_t,${t.everySeconds})',scale=-2:'min(${t.height},ih)'[thumb]`,
    output: { rendition: THUMBNAIL_OUTPUT, url: t.url, options: ['-map', '[thumb]', '-c:v', 'mjpeg', '-q:v', '5', '-fps_mode', 'passthrough', '-f', 'image2pipe'] },
  };
}

/**
 * Share of the part target given to ffmpeg's `-frag_duration`. The mp4 muxer cuts before the
 * first packet at or past it, so a fragment holds ceil(0.85 × target × fps) frames: within the
 * target and at least 85% of it (Apple's bounds) at 24-60 fps, without knowing the frame rate.
 */
export const FRAG_DURATION_RATIO = 0.85;

/** `-frag_duration` (µs) for a part target, as options to append to an output. */
export function partFragmentOptions(partSeconds: number | null | undefined): string[] {
  return partSeconds ? ['-frag_duration', String(Math.round(partSeconds * FRAG_DURATION_RATIO * 1e6))] : [];
}

/** Fragmented MP4 as CMAF wants it: fragments start at keyframes, no seeking back. */
const FMP4_OPTIONS = ['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-flush_packets', '1'];

/**
 * Builds ONE ffmpeg invocation for a whole ladder: decode once, `split` the video, scale and encode
 * each rung, copy the top rung when the plan says so. Keyframes stay aligned across renditions:
 * with a passthrough rung the encoders key exactly on the source's keyframes
 * (`-force_key_frames source`), otherwise on a fixed clock of one per segment.
 */
export function buildFfmpegArgs(plan: TranscodePlan, settings: EncodeSettings): FfmpegArgs {
  const encoded = plan.renditions.filter((r) => !r.passthrough);
  const hasPassthrough = encoded.length < plan.renditions.length;
  // A huge GOP and no scene cuts leave only the forced keyframes, identical in every rung.
  const keyframes = [
    '-force_key_frames',
    hasPassthrough ? 'source' : `expr:gte(t,n_forced*${settings.segmentSeconds})`,
    '-g',
    '100000',
    '-sc_threshold',
    '0',
  ];

  let complexFilter: string | undefined;
  if (encoded.length > 0) {
    const labels = encoded.map((_, i) => `[s${i}]`).join('');
    const split = encoded.length > 1 ? `[0:v:0]split=${encoded.length}${labels}` : '';
    const scales = encoded.map((r, i) => `${encoded.length > 1 ? `[s${i}]` : '[0:v:0]'}scale=-2:${r.height}[v${i}]`);
    complexFilter = [split, ...scales].filter(Boolean).join(';');
  }

  const audio = ['-map', '0:a:0', '-c:a', 'aac', '-b:a', `${plan.audioKbps}k`, '-ac', '2'];
  const outputs = plan.renditions.map((r) => {
    const video = r.passthrough
      ? ['-map', '0:v:0', '-c:v', 'copy']
      : [
          '-map',
          `[v${encoded.indexOf(r)}]`,
          '-c:v',
          'libx264',
          '-preset',
          settings.preset,
          '-tune',
          'zerolatency',
          '-pix_fmt',
          'yuv420p',
          '-b:v',
          `${r.videoKbps}k`,
          '-maxrate',
          `${Math.round(r.videoKbps * 1.1)}k`,
          '-bufsize',
          `${Math.round(r.videoKbps * 1.5)}k`,
          ...keyframes,
        ];
    return { rendition: r.name, url: settings.outputUrl(r.name), options: [...video, ...audio, ...FMP4_OPTIONS, ...partFragmentOptions(settings.partSeconds)] };
  });

  if (settings.thumbnail) {
    const thumb = thumbnailOutput(settings.thumbnail);
    complexFilter = complexFilter ? `${complexFilter};${thumb.filter}` : thumb.filter;
    outputs.push(thumb.output);
  }

  return {
    // The FLV arrives from memory with its sequence headers first: a short probe is enough and
    // saves seconds of startup latency.
    inputOptions: ['-probesize', '500000', '-analyzeduration', '1000000', '-fflags', '+genpts'],
    complexFilter,
    outputs,
  };
}

/**
 * The plain ffmpeg argv for `args` reading FLV from `input` (`pipe:0` for the origin's jobs; a file
 * for the benchmarks). `inputOptions` go before `-i`, after ours.
 */
export function ffmpegArgv(args: FfmpegArgs, input: string, inputOptions: string[] = []): string[] {
  return [
    '-f',
    'flv',
    ...args.inputOptions,
    ...inputOptions,
    '-i',
    input,
    ...(args.complexFilter ? ['-filter_complex', args.complexFilter] : []),
    ...args.outputs.flatMap((o) => [...o.options, o.url]),
  ];
}
