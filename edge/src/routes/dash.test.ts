import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { INTERNAL_API } from '../../../shared/src/internal-api.ts';
import { admin, BASE, liveStream, rendition, signed, viewer } from '../test-support/edge-client.ts';

/** A segment announce with the encoder run's timeline origin, 2 s segments from `origin + 40`. */
function timedSegments(epoch: number, name: string, msns: number[], origin: number) {
  return {
    epoch,
    segments: msns.map((msn) => ({ rendition: name, msn, epoch, duration: 2, programDateTime: origin + 40 + msn * 2000, timelineOrigin: origin, file: `seg-${msn}-e${epoch}.m4s`, bytes: 400_000 })),
  };
}

async function createdAt(id: string): Promise<number> {
  return ((await (await admin('GET', `/v1/streams/${id}`)).json()) as { createdAt: number }).createdAt;
}

describe('GET /live/:id/manifest.mpd', () => {
  it('is a dynamic MPD over the HLS segments: one Period per encoder run, UTCTiming, cacheable for a second', async () => {
    const { id, epoch } = await liveStream();
    const ast = Math.floor((await createdAt(id)) / 1000) * 1000;
    const origin = ast + 10_000;
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '360p', { width: 640, height: 360, codecs: 'avc1.64001e,mp4a.40.2', declaredBandwidth: 928_000 }));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', [0, 1, 2], origin));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '360p', [0, 1], origin));
    const res = await viewer(`/live/${id}/manifest.mpd`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/dash+xml');
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const body = await res.text();
    const publishTime = /publishTime="([^"]+)"/.exec(body)?.[1] ?? '';
    expect(Math.abs(Date.parse(publishTime) - Date.now())).toBeLessThan(60_000);
    expect(body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="${new Date(ast).toISOString()}" publishTime="${publishTime}" minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT6S" suggestedPresentationDelay="PT4S" maxSegmentDuration="PT2S" minBufferTime="PT2S">
  <Period id="e${epoch}-${origin + 40}" start="PT10.04S">
    <AdaptationSet id="0" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <Representation id="720p" bandwidth="2928000" width="1280" height="720" codecs="avc1.64001f,mp4a.40.2" frameRate="30">
        <SegmentTemplate timescale="1000" presentationTimeOffset="40" startNumber="0" initialization="720p/init-${epoch}.mp4" media="720p/seg-$Number$-e${epoch}.m4s">
          <SegmentTimeline>
            <S t="40" d="2000" r="2"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
      <Representation id="360p" bandwidth="1600000" width="640" height="360" codecs="avc1.64001e,mp4a.40.2" frameRate="30">
        <SegmentTemplate timescale="1000" presentationTimeOffset="40" startNumber="0" initialization="360p/init-${epoch}.mp4" media="360p/seg-$Number$-e${epoch}.m4s">
          <SegmentTimeline>
            <S t="40" d="2000" r="1"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://edge.test/time"/>
</MPD>
`);
  });

  it('never lists a gap: the Period ends before it and the next starts after it, named by its first segment', async () => {
    const { id, epoch } = await liveStream();
    const origin = Math.floor((await createdAt(id)) / 1000) * 1000 + 5000;
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', [0, 1], origin));
    // 2 was never announced: the index fills it with a gap row.
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', [3, 4], origin));
    const body = await (await viewer(`/live/${id}/manifest.mpd`)).text();
    expect(body).not.toContain('seg-2-');
    expect([...body.matchAll(/<Period id="([^"]+)" start="([^"]+)">/g)].map((m) => [m[1], m[2]])).toEqual([
      [`e${epoch}-${origin + 40}`, 'PT5.04S'],
      [`e${epoch}-${origin + 6040}`, 'PT11.04S'],
    ]);
    expect(body).toContain(`<SegmentTemplate timescale="1000" presentationTimeOffset="6040" startNumber="3" initialization="720p/init-${epoch}.mp4" media="720p/seg-$Number$-e${epoch}.m4s">`);
    expect(body).toContain('<S t="6040" d="2000" r="1"/>');
  });

  it('keeps the id and start of a Period that began after a gap once the gap has left the window', async () => {
    const { id, epoch } = await liveStream();
    const origin = Math.floor((await createdAt(id)) / 1000) * 1000 + 5000;
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', [0, 1], origin));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', [3, 4, 5, 6, 7, 8, 9, 10, 11, 12], origin));
    const body = await (await viewer(`/live/${id}/manifest.mpd`)).text();
    // The window is the last 8 rows (5..12) and the gap row at 2 is pruned: the rows still name their run.
    expect([...body.matchAll(/<Period id="([^"]+)" start="([^"]+)">/g)].map((m) => [m[1], m[2]])).toEqual([[`e${epoch}-${origin + 6040}`, 'PT11.04S']]);
    expect(body).toContain(`<SegmentTemplate timescale="1000" presentationTimeOffset="6040" startNumber="5" initialization="720p/init-${epoch}.mp4" media="720p/seg-$Number$-e${epoch}.m4s">`);
    expect(body).toContain('<S t="10040" d="2000" r="7"/>');
  });

  it('answers 503 before the first segment and 404 for an unknown stream', async () => {
    const { id, epoch } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    const early = await viewer(`/live/${id}/manifest.mpd`);
    expect(early.status).toBe(503);
    expect(early.headers.get('retry-after')).toBe('1');
    expect((await viewer('/live/zzzzzzzzzzzzzzzz/manifest.mpd')).status).toBe(404);
  });
});

describe('GET /time', () => {
  it('answers the edge clock as ISO 8601, never cached', async () => {
    const before = Date.now();
    const res = await viewer('/time');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const t = Date.parse(await res.text());
    expect(t).toBeGreaterThanOrEqual(before - 1000);
    expect(t).toBeLessThanOrEqual(Date.now() + 1000);
  });
});

describe('GET /live/:id/manifest.mpd with a DVR window', () => {
  it('lists the DVR window like the HLS media playlist: timeShiftBufferDepth is the window, sliding beyond it', async () => {
    const { id, epoch } = await liveStream({ dvrWindowSeconds: 60 });
    const origin = Math.floor((await createdAt(id)) / 1000) * 1000 + 10_000;
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
    const msns = Array.from({ length: 40 }, (_, i) => i);
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', msns, origin));
    const mpd = await (await viewer(`/live/${id}/manifest.mpd`)).text();
    // 40 segments of 2 s announced; the window holds 60 s: the newest 30 (10..39).
    expect(mpd).toContain('timeShiftBufferDepth="PT60S"');
    expect(mpd).toContain('startNumber="10"');
    expect(mpd).toContain('<S t="20040" d="2000" r="29"/>');
    const hls = await (await viewer(`/live/${id}/720p/index.m3u8`)).text();
    expect(hls).toContain('#EXT-X-MEDIA-SEQUENCE:10\n');
    expect(hls.match(/^seg-/gm)).toHaveLength(30);
  });

  it('without a DVR window lists the playlist window only', async () => {
    const { id, epoch } = await liveStream({ dvrWindowSeconds: 0 });
    const origin = Math.floor((await createdAt(id)) / 1000) * 1000 + 10_000;
    await signed(INTERNAL_API.renditions(id), rendition(epoch, '720p'));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', Array.from({ length: 40 }, (_, i) => i), origin));
    const mpd = await (await viewer(`/live/${id}/manifest.mpd`)).text();
    expect(mpd).toContain('timeShiftBufferDepth="PT16S"');
    expect(mpd).toContain('startNumber="32"');
  });
});

describe('GET /live/:id/status.json', () => {
  it('tells the public status and whether there is anything to play; 404 for an unknown stream', async () => {
    const { id, epoch } = await liveStream();
    expect(await (await viewer(`/live/${id}/status.json`)).json()).toEqual({ status: 'live', playable: false });
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', [0], Date.now()));
    // The first answer is cached for two seconds (query strings are not part of the cache key):
    // the change shows once it expires.
    let res = await viewer(`/live/${id}/status.json`);
    for (let i = 0; i < 40 && !((await res.clone().json()) as { playable: boolean }).playable; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await viewer(`/live/${id}/status.json`);
    }
    expect(res.headers.get('cache-control')).toBe('public, max-age=2');
    expect(await res.json()).toEqual({ status: 'live', playable: true });
    expect((await viewer('/live/zzzzzzzzzzzzzzzz/status.json')).status).toBe(404);
  });
});

describe('GET /watch/:id', () => {
  it('serves the watch page from the static assets; a malformed id is 404', async () => {
    const { id } = await liveStream();
    const res = await viewer(`/watch/${id}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/watch/watch.js"></script>');
    // The stream's status travels in the page, so the player starts without asking status.json first.
    expect(html).toContain('<meta name="edgelive-status" content="{&quot;status&quot;:&quot;live&quot;,&quot;playable&quot;:false}">');
    // Each load carries its own signed session: what beacons and viewer counts accept.
    const sids = [html, await (await viewer(`/watch/${id}`)).text()].map((h) => /<meta name="edgelive-sid" content="([A-Za-z0-9_-]+)">/.exec(h)?.[1]);
    expect(sids[0]).toBeDefined();
    expect(sids[1]).not.toBe(sids[0]);
    const beacon = (sid: string | undefined) => SELF.fetch(`${BASE}/live/${id}/beacon`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sid, startupMs: 300 }) });
    expect((await beacon(sids[0])).status).toBe(204);
    expect((await beacon('forgedforgedforgedforged')).status).toBe(403);
    expect((await viewer('/watch/BAD')).status).toBe(404);
    // A well-formed id the edge does not know: the page is served with no status, and asks (and shows "unknown").
    const unknown = await (await viewer('/watch/zzzzzzzzzzzzzzzz')).text();
    expect(unknown).toContain('<meta name="edgelive-status" content="">');
  });

  it("preloads this viewer's master playlist in the page's head when hls.js will start at once, and only then", async () => {
    const { id, epoch } = await liveStream();
    await signed(INTERNAL_API.renditions(id), rendition(epoch));
    await signed(INTERNAL_API.segments(id), timedSegments(epoch, '720p', [0], Date.now()));
    const html = await (await viewer(`/watch/${id}?token=t%20k`)).text();
    const sid = /<meta name="edgelive-sid" content="([A-Za-z0-9_-]+)">/.exec(html)?.[1];
    // The URL watch.js builds (session, then token), as the page's own fetch() asks it (cors, same-origin credentials).
    const href = `/live/${id}/master.m3u8?sid=${sid}&amp;token=t+k`;
    // Then the media playlist and init segment hls.js asks for first, with the session and token as the master and the media playlist carry them.
    const preloads = [...html.matchAll(/<link rel="preload" href="([^"]+)" as="fetch" crossorigin="anonymous">/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
    expect(preloads).toEqual([`/live/${id}/master.m3u8?sid=${sid}&token=t+k`, `/live/${id}/720p/index.m3u8?sid=${sid}&token=t%20k`, `/live/${id}/720p/init-1.mp4?token=t%20k`]);
    // After hls.js's own preload, before the page's scripts.
    expect(html.indexOf('/vendor/hls.min.js')).toBeLessThan(html.indexOf(href));
    // What they name exists (asked without the made-up token, which playback refuses).
    const master = await viewer(preloads[0]!.replace('&token=t+k', ''));
    expect(master.status).toBe(200);
    expect(await master.text()).toContain(`720p/index.m3u8?sid=${sid}`);
    expect((await viewer(preloads[1]!.replace('&token=t%20k', ''))).status).toBe(200);
    await env.MEDIA.put(`live/${id}/720p/init-1.mp4`, new Uint8Array([1]));
    expect((await viewer(preloads[2]!.replace('?token=t%20k', ''))).status).toBe(200);
    // Another player, hls.js's own start, or nothing to play yet: nothing preloaded.
    for (const query of ['?player=dash', '?player=native', '?early=0']) expect(await (await viewer(`/watch/${id}${query}`)).text()).not.toContain('as="fetch"');
    const { id: idle } = await liveStream();
    expect(await (await viewer(`/watch/${idle}`)).text()).not.toContain('as="fetch"');
    expect(await (await viewer(`/watch/${id}?player=hls`)).text()).toContain('as="fetch"');
  });
});
