import { describe, expect, it } from 'vitest';
import { renderMasterPlaylist } from './hls-master-playlist.ts';

describe('renderMasterPlaylist', () => {
  it('lists variants from the highest bandwidth down with FRAME-RATE to three decimals', () => {
    const text = renderMasterPlaylist([
      { uri: '360p/index.m3u8', bandwidth: 928_000, averageBandwidth: 901_234.6, width: 640, height: 360, codecs: 'avc1.64001e,mp4a.40.2', frameRate: 30 },
      { uri: '720p/index.m3u8', bandwidth: 2_928_000.4, averageBandwidth: 2_850_000, width: 1280, height: 720, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 29.97002997 },
    ]);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-STREAM-INF:BANDWIDTH=2928000,AVERAGE-BANDWIDTH=2850000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=29.970',
        '720p/index.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=928000,AVERAGE-BANDWIDTH=901235,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=30.000',
        '360p/index.m3u8',
        '',
      ].join('\n'),
    );
  });

  it('leaves FRAME-RATE out when the frame rate is unknown', () => {
    const text = renderMasterPlaylist([
      { uri: 'a/index.m3u8', bandwidth: 100, averageBandwidth: 90, width: 2, height: 2, codecs: 'avc1.42c00a', frameRate: 0 },
    ]);
    expect(text).toBe(
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=100,AVERAGE-BANDWIDTH=90,RESOLUTION=2x2,CODECS="avc1.42c00a"\na/index.m3u8\n',
    );
  });

  it('keeps the given order for equal bandwidths and renders an empty list as headers only', () => {
    const v = { bandwidth: 1, averageBandwidth: 1, width: 1, height: 1, codecs: 'c', frameRate: 25 };
    expect(renderMasterPlaylist([{ ...v, uri: 'x' }, { ...v, uri: 'y' }]).split('\n').filter((l) => !l.startsWith('#'))).toEqual(['x', 'y', '']);
    expect(renderMasterPlaylist([])).toBe('#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n');
  });
});
