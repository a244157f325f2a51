/**
 * Glass-to-glass latency read from the picture: the publisher burns the wall clock (ms since
 * epoch, modulo 2^24) into every frame as a strip of 24 black/white blocks, with a second row of
 * the complement bits as a check; the page reads it back from the decoded frame on a canvas.
 * A block code survives H.264 and scaling far better than text would under OCR.
 */

/** Bits of the clock code: 2^24 ms is 4.6 hours, far beyond any latency. */
export const CLOCK_BITS = 24;
/** Height of the code strip in a 360-line frame: two rows of 20 lines. */
export const STRIP_HEIGHT = 40;

/**
 * The ffmpeg filter graph over `input` (a label such as `[0:v]`, a `width`x`height` source read
 * in real time with `-re` at `fps`): `setpts` stamps each frame
 * with the wall clock (RTCTIME) as it is made, `geq` draws that time as bits (LSB on the left;
 * row 0 the bits, row 1 their complement), and a second `setpts` restores even frame times for
 * the encoder. Output label `[v]`.
 */
export function clockFilterGraph(input: string, width: number, height: number, fps: number): string {
  const value = `mod(floor(T*1000),${2 ** CLOCK_BITS})`;
  const bit = `mod(floor(${value}/pow(2,X)),2)`;
  const strip = Math.round((STRIP_HEIGHT * height) / 360 / 2) * 2;
  return [
    `${input}setpts='RTCTIME/1000000/TB',split[a][b]`,
    `[b]scale=${CLOCK_BITS}:2,format=yuv420p,geq=lum='if(eq(Y,0),255*${bit},255-255*${bit})':cb=128:cr=128,scale=${width}:${strip}:flags=neighbor[code]`,
    `[a][code]overlay=0:0,setpts=N/(${fps}*TB),format=yuv420p[v]`,
  ].join(';');
}

/**
 * Runs in the page: reads the clock code from each presented frame (at most every `everyMs`) and
 * keeps latency samples, stalls and bad reads in `window.__latency`. Serialised by Playwright, so
 * it must not close over anything.
 */
export function installClockReader(opts: { bits: number; stripFraction: number; everyMs: number }): void {
  const video = document.querySelector('video')!;
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const state = { samples: [] as number[], bad: 0, stalls: 0, stallMs: 0, stallSince: 0, recording: false };
  (window as unknown as { __latency: typeof state }).__latency = state;
  video.addEventListener('waiting', () => {
    if (!state.recording || state.stallSince) return;
    state.stalls++;
    state.stallSince = performance.now();
  });
  video.addEventListener('playing', () => {
    if (state.stallSince) state.stallMs += performance.now() - state.stallSince;
    state.stallSince = 0;
  });
  const modulus = 2 ** opts.bits;
  let lastAt = 0;
  const onFrame = (_now: number, meta: { expectedDisplayTime: number }) => {
    const shownAt = performance.timeOrigin + meta.expectedDisplayTime;
    if (state.recording && shownAt - lastAt >= opts.everyMs && video.videoWidth > 0) {
      lastAt = shownAt;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      ctx.drawImage(video, 0, 0);
      const rowHeight = (canvas.height * opts.stripFraction) / 2;
      const bitsRow = ctx.getImageData(0, Math.floor(rowHeight * 0.5), canvas.width, 1).data;
      const checkRow = ctx.getImageData(0, Math.floor(rowHeight * 1.5), canvas.width, 1).data;
      let value = 0;
      let ok = true;
      for (let i = 0; i < opts.bits && ok; i++) {
        const x = Math.floor(((i + 0.5) * canvas.width) / opts.bits) * 4;
        const on = bitsRow[x]! > 128;
        // The check row holds the complement: equal rows (or grey) mean a blurred or torn read.
        if (on === checkRow[x]! > 128 || Math.abs(bitsRow[x]! - 128) < 48) ok = false;
        if (on) value += 2 ** i;
      }
      const latency = (((Math.floor(shownAt) - value) % modulus) + modulus) % modulus;
      if (ok && latency < 60_000) state.samples.push(latency);
      else state.bad++;
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}
