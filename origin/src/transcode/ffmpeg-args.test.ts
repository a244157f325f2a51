import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, ffmpegArgv, type EncodeSettings } from './ffmpeg-args.ts';
import type { TranscodePlan } from './ladder-plan.ts';

const settings: EncodeSettings = { segmentSeconds: 2, preset: 'veryfast', outputUrl: (name) => `unix:/tmp/edgelive/${name}.sock` };

const INPUT_OPTIONS = ['-probesize', '500000', '-analyzeduration', '1000000', '-fflags', '+genpts'];
const FMP4 = ['-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', '-flush_packets', '1'];
const audio = (kbps: number) => ['-map', '0:a:0', '-c:a', 'aac', '-b:a', `${kbps}k`, '-ac', '2'];

function x264(label: string, b: string, maxrate: string, bufsize: string, forceKeyFrames: string): string[] {
  return [
    '-map', label,
    '-c:v', 'libx264',
    '-preset', 'veryfast',
    '-tune', 'zerolatency',
    '-pix_fmt', 'yuv420p',
    '-b:v', b,
    '-maxrate', maxrate,
    '-bufsize', bufsize,
    '-force_key_frames', forceKeyFrames,
    '-g', '100000',
    '-sc_threshold', '0',
  ];
}

describe('buildFfmpegArgs', () => {
  it('splits the video three ways and encodes every rung on a fixed keyframe clock', () => {
    const plan: TranscodePlan = {
      renditions: [
        { name: '720p', height: 720, videoKbps: 2800, passthrough: false },
        { name: '480p', height: 480, videoKbps: 1400, passthrough: false },
        { name: '360p', height: 360, videoKbps: 800, passthrough: false },
      ],
      audioKbps: 128,
    };

    expect(buildFfmpegArgs(plan, settings)).toEqual({
      inputOptions: INPUT_OPTIONS,
      complexFilter: '[0:v:0]split=3[s0][s1][s2];[s0]scale=-2:720[v0];[s1]scale=-2:480[v1];[s2]scale=-2:360[v2]',
      outputs: [
        {
          rendition: '720p',
          url: 'unix:/tmp/edgelive/720p.sock',
          options: [...x264('[v0]', '2800k', '3080k', '4200k', 'expr:gte(t,n_forced*2)'), ...audio(128), ...FMP4],
        },
        {
          rendition: '480p',
          url: 'unix:/tmp/edgelive/480p.sock',
          options: [...x264('[v1]', '1400k', '1540k', '2100k', 'expr:gte(t,n_forced*2)'), ...audio(128), ...FMP4],
        },
        {
          rendition: '360p',
          url: 'unix:/tmp/edgelive/360p.sock',
          options: [...x264('[v2]', '800k', '880k', '1200k', 'expr:gte(t,n_forced*2)'), ...audio(128), ...FMP4],
        },
      ],
    });
  });

  it('copies a passthrough top rung, encodes the other without a split, keyed on the source', () => {
    const plan: TranscodePlan = {
      renditions: [
        { name: '1080p', height: 1080, videoKbps: 5000, passthrough: true },
        { name: '720p', height: 720, videoKbps: 2800, passthrough: false },
      ],
      audioKbps: 96,
    };

    expect(buildFfmpegArgs(plan, { ...settings, segmentSeconds: 4 })).toEqual({
      inputOptions: INPUT_OPTIONS,
      complexFilter: '[0:v:0]scale=-2:720[v0]',
      outputs: [
        {
          rendition: '1080p',
          url: 'unix:/tmp/edgelive/1080p.sock',
          options: ['-map', '0:v:0', '-c:v', 'copy', ...audio(96), ...FMP4],
        },
        {
          rendition: '720p',
          url: 'unix:/tmp/edgelive/720p.sock',
          options: [...x264('[v0]', '2800k', '3080k', '4200k', 'source'), ...audio(96), ...FMP4],
        },
      ],
    });
  });

  it('scales a single encoded rung straight from the input, with the segment length in the keyframe expression', () => {
    const plan: TranscodePlan = { renditions: [{ name: '240p', height: 240, videoKbps: 800, passthrough: false }], audioKbps: 64 };

    expect(buildFfmpegArgs(plan, { segmentSeconds: 6, preset: 'ultrafast', outputUrl: (name) => `file:/out/${name}.mp4` })).toEqual({
      inputOptions: INPUT_OPTIONS,
      complexFilter: '[0:v:0]scale=-2:240[v0]',
      outputs: [
        {
          rendition: '240p',
          url: 'file:/out/240p.mp4',
          options: [
            ...x264('[v0]', '800k', '880k', '1200k', 'expr:gte(t,n_forced*6)').map((a) => (a === 'veryfast' ? 'ultrafast' : a)),
            ...audio(64),
            ...FMP4,
          ],
        },
      ],
    });
  });

  it('has no filter graph when the only rung is copied', () => {
    const plan: TranscodePlan = { renditions: [{ name: '720p', height: 720, videoKbps: 2800, passthrough: true }], audioKbps: 128 };

    expect(buildFfmpegArgs(plan, settings)).toEqual({
      inputOptions: INPUT_OPTIONS,
      complexFilter: undefined,
      outputs: [{ rendition: '720p', url: 'unix:/tmp/edgelive/720p.sock', options: ['-map', '0:v:0', '-c:v', 'copy', ...audio(128), ...FMP4] }],
    });
  });

  it('rounds maxrate and bufsize to whole kbit/s', () => {
    const plan: TranscodePlan = { renditions: [{ name: 'odd', height: 300, videoKbps: 333, passthrough: false }], audioKbps: 128 };
    const options = buildFfmpegArgs(plan, settings).outputs[0]!.options;

    expect(options.slice(options.indexOf('-b:v'), options.indexOf('-bufsize') + 2)).toEqual(['-b:v', '333k', '-maxrate', '366k', '-bufsize', '500k']);
  });
});

describe('ffmpegArgv', () => {
  it('puts FLV input options, extra input options, the filter graph and every output in order', () => {
    const args = {
      inputOptions: ['-probesize', '500000'],
      complexFilter: '[0:v:0]scale=-2:240[v0]',
      outputs: [
        { rendition: '360p', url: 'a.mp4', options: ['-c:v', 'copy'] },
        { rendition: '240p', url: 'b.mp4', options: ['-map', '[v0]'] },
      ],
    };
    expect(ffmpegArgv(args, 'in.flv', ['-re'])).toEqual([
      '-f', 'flv', '-probesize', '500000', '-re', '-i', 'in.flv',
      '-filter_complex', '[0:v:0]scale=-2:240[v0]',
      '-c:v', 'copy', 'a.mp4', '-map', '[v0]', 'b.mp4',
    ]);
    expect(ffmpegArgv({ ...args, complexFilter: undefined, outputs: [] }, 'in.flv')).toEqual(['-f', 'flv', '-probesize', '500000', '-i', 'in.flv']);
  });

  it('fragments every output at 85% of the LL-HLS part target (µs), so ffmpeg fragments become parts', () => {
    const plan: TranscodePlan = { renditions: [{ name: '720p', height: 720, videoKbps: 2800, passthrough: true }], audioKbps: 128 };
    const args = buildFfmpegArgs(plan, { ...settings, partSeconds: 0.333 });
    expect(args.outputs[0]!.options.slice(-2)).toEqual(['-frag_duration', '283050']);
    expect(buildFfmpegArgs(plan, { ...settings, partSeconds: null }).outputs[0]!.options).not.toContain('-frag_duration');
  });
});

