import { describe, expect, it } from 'vitest';
import { renderDashMpd, timelineElements, xsDuration } from './dash-mpd.ts';
import { dashPeriods, type DashRenditionRows, type DashSegmentRow } from './dash-periods.ts';

const AST = Date.UTC(2026, 10, 29, 21, 0, 0);
const ORIGIN = AST + 5_000;

/** A stored row of the run that began at `runStart` (gap rows carry none). */
function row(msn: number, epoch: number, origin: number, pdt: number, runStart: number | null): DashSegmentRow {
  return { msn, epoch, timelineOrigin: origin, runStart, programDateTime: pdt, duration: 2, gap: runStart === null };
}

function rendition(name: string, rows: DashSegmentRow[]): DashRenditionRows {
  return { name, width: name === '720p' ? 1280 : 640, height: name === '720p' ? 720 : 360, codecs: 'avc1.64001f,mp4a.40.2', frameRate: 30, bandwidth: name === '720p' ? 3_000_000 : 900_000, rows };
}

describe('xsDuration', () => {
  it('writes seconds with at most millisecond precision', () => {
    expect([xsDuration(2000), xsDuration(1500), xsDuration(16_033), xsDuration(0.4)]).toEqual(['PT2S', 'PT1.5S', 'PT16.033S', 'PT0S']);
  });
});

describe('timelineElements', () => {
  it('folds equal contiguous durations into @r and writes @t where the timeline jumps', () => {
    expect(timelineElements([{ t: 0, d: 2000 }, { t: 2000, d: 2000 }, { t: 4000, d: 2000 }, { t: 6000, d: 1500 }, { t: 9000, d: 2000 }])).toEqual([
      '<S t="0" d="2000" r="2"/>',
      '<S d="1500"/>',
      '<S t="9000" d="2000"/>',
    ]);
  });
});

describe('renderDashMpd over dashPeriods', () => {
  it('one Period per encoder run: a reconnect (new epoch, new origin) starts a Period with its own init', () => {
    const origin2 = ORIGIN + 20_000;
    const rows = [row(10, 1, ORIGIN, ORIGIN, ORIGIN), row(11, 1, ORIGIN, ORIGIN + 2000, ORIGIN), row(12, 1, ORIGIN, ORIGIN + 4000, ORIGIN), row(13, 2, origin2, origin2 + 33, origin2 + 33), row(14, 2, origin2, origin2 + 2033, origin2 + 33)];
    // 360p's window starts a segment later: its rows still name the run they belong to.
    const periods = dashPeriods([rendition('720p', rows), rendition('360p', rows.slice(1))], AST);
    const mpd = renderDashMpd({
      availabilityStartTime: AST,
      publishTime: AST + 30_000,
      minimumUpdatePeriod: 2000,
      timeShiftBufferDepth: 10_000,
      suggestedPresentationDelay: 4000,
      maxSegmentDuration: 2000,
      minBufferTime: 2000,
      utcTimingUrl: 'https://live.example.com/time',
      mediaPresentationDuration: null,
      periods,
    });
    expect(mpd).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="2026-11-29T21:00:00.000Z" publishTime="2026-11-29T21:00:30.000Z" minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT10S" suggestedPresentationDelay="PT4S" maxSegmentDuration="PT2S" minBufferTime="PT2S">
  <Period id="e1-${ORIGIN}" start="PT5S">
    <AdaptationSet id="0" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <Representation id="720p" bandwidth="3000000" width="1280" height="720" codecs="avc1.64001f,mp4a.40.2" frameRate="30">
        <SegmentTemplate timescale="1000" presentationTimeOffset="0" startNumber="10" initialization="720p/init-1.mp4" media="720p/seg-$Number$-e1.m4s">
          <SegmentTimeline>
            <S t="0" d="2000" r="2"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
      <Representation id="360p" bandwidth="900000" width="640" height="360" codecs="avc1.64001f,mp4a.40.2" frameRate="30">
        <SegmentTemplate timescale="1000" presentationTimeOffset="0" startNumber="11" initialization="360p/init-1.mp4" media="360p/seg-$Number$-e1.m4s">
          <SegmentTimeline>
            <S t="2000" d="2000" r="1"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
  <Period id="e2-${origin2 + 33}" start="PT25.033S">
    <AdaptationSet id="0" mimeType="video/mp4" segmentAlignment="true" startWithSAP="1">
      <Representation id="720p" bandwidth="3000000" width="1280" height="720" codecs="avc1.64001f,mp4a.40.2" frameRate="30">
        <SegmentTemplate timescale="1000" presentationTimeOffset="33" startNumber="13" initialization="720p/init-2.mp4" media="720p/seg-$Number$-e2.m4s">
          <SegmentTimeline>
            <S t="33" d="2000" r="1"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
      <Representation id="360p" bandwidth="900000" width="640" height="360" codecs="avc1.64001f,mp4a.40.2" frameRate="30">
        <SegmentTemplate timescale="1000" presentationTimeOffset="33" startNumber="13" initialization="360p/init-2.mp4" media="360p/seg-$Number$-e2.m4s">
          <SegmentTimeline>
            <S t="33" d="2000" r="1"/>
          </SegmentTimeline>
        </SegmentTemplate>
      </Representation>
    </AdaptationSet>
  </Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://live.example.com/time"/>
</MPD>
`);
  });

  it('a gap in any rendition ends the Period: the next one starts at the following segment, and the gap is never listed', () => {
    const run1 = ORIGIN + 40_000;
    const run2 = ORIGIN + 44_000;
    const a = [row(20, 3, ORIGIN, run1, run1), row(21, 3, ORIGIN, ORIGIN + 42_000, null), row(22, 3, ORIGIN, run2, run2), row(23, 3, ORIGIN, ORIGIN + 46_000, run2)];
    const b = [row(20, 3, ORIGIN, run1, run1), row(21, 3, ORIGIN, ORIGIN + 42_000, run1), row(22, 3, ORIGIN, run2, run1), row(23, 3, ORIGIN, ORIGIN + 46_000, run1)];
    const periods = dashPeriods([rendition('720p', a), rendition('360p', b)], AST);
    expect(periods.map((p) => ({ id: p.id, start: p.start, pto: p.presentationTimeOffset, reps: p.representations.map((r) => [r.id, r.startNumber, r.segments]) }))).toEqual([
      { id: `e3-${run1}`, start: 45_000, pto: 40_000, reps: [['720p', 20, [{ t: 40_000, d: 2000 }]], ['360p', 20, [{ t: 40_000, d: 2000 }]]] },
      {
        id: `e3-${run2}`,
        start: 49_000,
        pto: 44_000,
        reps: [
          ['720p', 22, [{ t: 44_000, d: 2000 }, { t: 46_000, d: 2000 }]],
          ['360p', 22, [{ t: 44_000, d: 2000 }, { t: 46_000, d: 2000 }]],
        ],
      },
    ]);
  });

  it('keeps a Period that began after a gap named and placed as before once the gap has left the window', () => {
    const run2 = ORIGIN + 44_000;
    const [period, ...rest] = dashPeriods([rendition('720p', [row(23, 3, ORIGIN, ORIGIN + 46_000, run2), row(24, 3, ORIGIN, ORIGIN + 48_000, run2)])], AST);
    expect(rest).toEqual([]);
    expect({ id: period!.id, start: period!.start, pto: period!.presentationTimeOffset, first: period!.representations[0]!.startNumber }).toEqual({
      id: `e3-${run2}`,
      start: 49_000,
      pto: 44_000,
      first: 23,
    });
  });

  it('an ended stream has mediaPresentationDuration and no minimumUpdatePeriod', () => {
    const mpd = renderDashMpd({
      availabilityStartTime: AST,
      publishTime: AST,
      minimumUpdatePeriod: 2000,
      timeShiftBufferDepth: 4000,
      suggestedPresentationDelay: 4000,
      maxSegmentDuration: 2000,
      minBufferTime: 2000,
      utcTimingUrl: 'http://127.0.0.1:8787/time',
      mediaPresentationDuration: 9000,
      periods: [],
    });
    expect(mpd.split('\n')[1]).toBe(
      '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic" availabilityStartTime="2026-11-29T21:00:00.000Z" publishTime="2026-11-29T21:00:00.000Z" mediaPresentationDuration="PT9S" timeShiftBufferDepth="PT4S" suggestedPresentationDelay="PT4S" maxSegmentDuration="PT2S" minBufferTime="PT2S">',
    );
  });
});
