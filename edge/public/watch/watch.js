// edgelive watch page: hls.js in low-latency mode (native HLS on Safari), or dash.js with
// ?player=dash; stream status written into the page by the edge, then polled from
// /live/:id/status.json; QoE beacons to /live/:id/beacon and CDN error beacons to /live/:id/cdn-errors. Plain browser JavaScript: served as a static asset.

const video = /** @type {HTMLVideoElement} */ (document.getElementById('video'));
const messageEl = /** @type {HTMLElement} */ (document.getElementById('message'));
const statusEl = /** @type {HTMLElement} */ (document.getElementById('status'));
const params = new URLSearchParams(location.search);
const streamId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const base = `/live/${encodeURIComponent(streamId)}`;
/**
 * This viewer's session id (`sid`), minted and signed by the edge into the page's meta tag: only such
 * sessions are counted and may send beacons. Without one (the page opened some other way) the
 * master mints one for the player and the page sends no beacons.
 */
const sid = document.querySelector('meta[name="edgelive-sid"]')?.getAttribute('content') || null;
/**
 * The playback token of a `signed` stream (`/watch/:id?token=…`, from the application that minted
 * it), passed on to the master and the MPD; the edge carries it into every URL they name.
 */
const token = params.get('token') || null;
/** `path` with the session and the token, when there are any. */
function playbackUrl(path, withSid) {
  const query = new URLSearchParams();
  if (withSid && sid) query.set('sid', sid);
  if (token) query.set('token', token);
  const q = query.toString();
  return q ? `${base}/${path}?${q}` : `${base}/${path}`;
}
/** The master playlist URL, carrying the session and token when there are any. */
const masterUrl = playbackUrl('master.m3u8', true);

const MESSAGES = {
  unknown: 'This stream does not exist, or it was deleted.',
  gone: 'This stream has ended and is no longer available.',
  idle: 'The stream has not started yet. This page starts playing as soon as it does.',
  starting: 'The stream is starting…',
  reconnecting: 'The broadcaster lost their connection. Waiting for them to come back…',
  error: 'The stream is interrupted. It resumes here on its own if the broadcast comes back.',
  ended: 'The stream has ended.',
  failed: 'Playback failed. Retrying…',
};

/** What tests and the latency bench read: `window.edgelive`. */
const state = {
  streamId,
  sid,
  player: /** @type {'hls.js' | 'native' | 'dash.js' | null} */ (null),
  status: /** @type {string | null} */ (null),
  message: /** @type {string | null} */ (null),
  startupMs: /** @type {number | null} */ (null),
  /** ms from navigation start to the first frame playing (status check and player load included). */
  firstFrameMs: /** @type {number | null} */ (null),
  /** Where the first frame played, and where the buffer began then (media seconds). */
  firstFrame: /** @type {{ position: number, bufferedFrom: number | null } | null} */ (null),
  playing: false,
  rebufferCount: 0,
  errors: /** @type {{ fatal: boolean, details: string, reason?: string, url?: string, atMs?: number }[]} */ ([]),
  /** hls.js's first steps until the first frame, with times (see traceStart). */
  trace: /** @type {string[]} */ ([]),
  beaconsSent: 0,
  cdnErrorsSent: 0,
};
// @ts-ignore a debugging and test hook
window.edgelive = state;

function showMessage(key) {
  state.message = key;
  messageEl.hidden = key === null;
  if (key !== null) messageEl.textContent = MESSAGES[key];
}

// ---- QoE beacons ---------------------------------------------------------------------------
const qoe = { loadStartedAt: 0, startupMs: /** @type {number | undefined} */ (undefined), playedMs: 0, rebufferCount: 0, rebufferMs: 0, errors: 0, switches: /** @type {{from: string, to: string}[]} */ ([]) };
let playingSince = 0;
let rebufferSince = 0;
let lastRendition = /** @type {string | null} */ (null);

function accrue(now) {
  if (playingSince) { qoe.playedMs += now - playingSince; playingSince = now; }
  if (rebufferSince) { qoe.rebufferMs += now - rebufferSince; rebufferSince = now; }
}

/** Sends what accrued since the last beacon; the edge sums increments per session. */
function sendBeacon(final = false) {
  if (!sid) return;
  accrue(performance.now());
  const body = { sid, playedMs: Math.round(qoe.playedMs), rebufferCount: qoe.rebufferCount, rebufferMs: Math.round(qoe.rebufferMs), switches: qoe.switches.slice(0, 50) };
  if (qoe.startupMs !== undefined) body.startupMs = qoe.startupMs;
  if (qoe.errors > 0) body.errors = Math.min(qoe.errors, 1000);
  if (body.startupMs === undefined && body.playedMs === 0 && body.rebufferCount === 0 && body.switches.length === 0 && body.errors === undefined) return;
  qoe.startupMs = undefined; qoe.playedMs = 0; qoe.rebufferCount = 0; qoe.rebufferMs = 0; qoe.errors = 0; qoe.switches = [];
  const url = `${base}/beacon`;
  const json = JSON.stringify(body);
  state.beaconsSent++;
  if (final && navigator.sendBeacon) navigator.sendBeacon(url, json);
  else fetch(url, { method: 'POST', body: json, headers: { 'content-type': 'application/json' }, keepalive: true }).catch(() => {});
}
setInterval(() => sendBeacon(), 10_000);
addEventListener('pagehide', () => sendBeacon(true));

video.addEventListener('playing', () => {
  const now = performance.now();
  if (!state.playing) {
    state.playing = true;
    state.startupMs = Math.round(now - qoe.loadStartedAt);
    state.firstFrameMs = Math.round(now);
    state.firstFrame = { position: video.currentTime, bufferedFrom: video.buffered.length ? video.buffered.start(0) : null };
    qoe.startupMs = state.startupMs;
    playingSince = now;
    showMessage(null);
    sendBeacon();
    return;
  }
  if (rebufferSince) { accrue(now); rebufferSince = 0; }
  playingSince ||= now;
});
video.addEventListener('waiting', () => {
  if (!state.playing || rebufferSince) return;
  const now = performance.now();
  accrue(now);
  playingSince = 0;
  rebufferSince = now;
  qoe.rebufferCount++;
  state.rebufferCount++;
});
video.addEventListener('pause', () => { accrue(performance.now()); playingSince = 0; });
video.addEventListener('ended', () => { accrue(performance.now()); playingSince = 0; showMessage('ended'); });

function noteRendition(name) {
  if (!name) return;
  if (lastRendition && lastRendition !== name) qoe.switches.push({ from: lastRendition, to: name });
  lastRendition = name;
}

// ---- CDN error beacons -------------------------------------------------------------------
/** CDN id (the HLS pathway) by URL origin, from the master playlist's pathways. */
const cdnByOrigin = new Map();
const cdnErrorSentAt = new Map();

function reportCdnError(url, kind) {
  if (!url || !sid) return;
  let origin;
  try { origin = new URL(url, location.href).origin; } catch { return; }
  const cdn = cdnByOrigin.get(origin);
  if (!cdn) return; // no CDN in front of this request: nothing to report
  const now = Date.now();
  // The edge rate-limits per session; one report a second per CDN is plenty.
  if (now - (cdnErrorSentAt.get(cdn) ?? 0) < 1000) return;
  cdnErrorSentAt.set(cdn, now);
  state.cdnErrorsSent++;
  fetch(`${base}/cdn-errors`, { method: 'POST', body: JSON.stringify({ cdn, sid, kind }), headers: { 'content-type': 'application/json' }, keepalive: true }).catch(() => {});
}

function errorKind(details, code) {
  if (/TIMEOUT/i.test(details)) return 'timeout';
  return code && code >= 400 ? 'http' : 'network';
}

// ---- players -----------------------------------------------------------------------------
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = () => resolve(undefined);
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

function isSafari() {
  return /^((?!chrome|chromium|android|crios|fxios|edg).)*safari/i.test(navigator.userAgent);
}

let started = false;

/** The player's first steps with their times (ms since the player started), for the latency bench's start-up breakdown. */
function traceStart(hls, Hls) {
  const t = () => Math.round(performance.now() - qoe.loadStartedAt);
  const add = (what) => { if (state.trace.length < 80 && !state.playing) state.trace.push(`${t()} ${what}`); };
  hls.on(Hls.Events.MANIFEST_LOADED, () => add('master loaded'));
  hls.on(Hls.Events.LEVEL_LOADED, (_e, d) => add(`level ${d.level} loaded`));
  hls.on(Hls.Events.FRAG_LOADING, (_e, d) => add(`load ${d.frag.sn}${d.part ? `.${d.part.index}` : ''}${d.frag.sn === 'initSegment' ? '' : ` @${(d.part ?? d.frag).start.toFixed(2)}`}`));
  hls.on(Hls.Events.FRAG_LOADED, (_e, d) => add(`loaded ${d.frag.sn}${d.part ? `.${d.part.index}` : ''}`));
  hls.on(Hls.Events.FRAG_PARSED, (_e, d) => add(`parsed ${d.frag.sn}${d.part ? `.${d.part.index}` : ''}`));
  hls.on(Hls.Events.BUFFER_CREATED, () => add('source buffers created'));
  hls.on(Hls.Events.BUFFER_APPENDED, (_e, d) => add(`appended ${d.frag.sn}${d.part ? `.${d.part.index}` : ''} ${d.type} (buffered ${video.buffered.length ? `${video.buffered.start(0).toFixed(2)}-${video.buffered.end(0).toFixed(2)}` : 'none'})`));
  hls.on(Hls.Events.FRAG_BUFFERED, (_e, d) => add(`buffered ${d.frag.sn}${d.part ? `.${d.part.index}` : ''} (currentTime ${video.currentTime.toFixed(2)})`));
  video.addEventListener('playing', () => state.trace.push(`${t()} playing at ${video.currentTime.toFixed(2)}`), { once: true });
}

/**
 * Buffered seconds from the first frame that let the video start before hls.js has its whole start
 * segment: three parts of 0.3 s (what the page waited for before, when a rounding slip made 0.6 s
 * need a third part; no warm-up stall in the bench then). With one part a part late by more than the
 * buffer ran it dry on a busy machine, and hls.js answers a stall by holding one second more latency
 * for good.
 */
const EARLY_START_SECONDS = 0.9;

/**
 * hls.js shows the first frame only once the whole chain of parts it started with is in: every
 * listed part of the start segment, one request after another. With `startOnSegmentBoundary` it
 * starts at the first buffered frame, the segment's first (independent) part; this starts the video
 * there as soon as EARLY_START_SECONDS are buffered, while the chain goes on loading ahead of
 * playback, and hls.js's own start, once the chain is in, finds it already playing there. The
 * latency controller then catches up to PART-HOLD-BACK behind the live edge at up to 1.5× speed.
 */
function startEarly(hls) {
  if (state.playing || hls.hasEnoughToStart || video.seeking || video.buffered.length === 0) return;
  const start = video.buffered.start(0);
  // Parts of 0.3 s buffer as 0.89999…: a millisecond of rounding must not wait for one more.
  if (video.buffered.end(0) - start < EARLY_START_SECONDS - 0.001) return;
  if (video.currentTime < start) video.currentTime = start;
  video.play().catch(() => {});
}

/**
 * The start-up's first requests, asked for at once while hls.js loads: what the edge preloads in
 * the page's head (watch-page.ts: this viewer's master, and the media playlist and init segment
 * hls.js will ask for first), each taken over by a fetch here, and the master in any case. Playlists are
 * kept (absolute URL → text, null when the fetch failed) for `loaderWithPreloads`; other files are
 * read to the end, so hls.js's own request finds them in the HTTP cache (they are immutable).
 * A playlist's entry says when it was asked for and when it came.
 */
function fetchStartPreloads() {
  const playlists = new Map();
  const hrefs = [...document.querySelectorAll('link[rel="preload"][as="fetch"]')].map((l) => /** @type {HTMLLinkElement} */ (l).href);
  const master = new URL(masterUrl, location.href).href;
  if (!hrefs.includes(master)) hrefs.unshift(master);
  for (const href of hrefs) {
    const askedAt = performance.now();
    const asked = fetch(href);
    const arrived = (text) => ({ text, askedAt, at: performance.now() });
    if (new URL(href).pathname.endsWith('.m3u8')) playlists.set(href, asked.then((res) => (res.ok ? res.text().then(arrived) : null), () => null));
    else asked.then((res) => res.arrayBuffer()).catch(() => {});
  }
  return playlists;
}

/**
 * hls.js's playlist loader, which answers the first request for each preloaded playlist from the
 * page's fetch when that worked, and asks the network as hls.js would otherwise.
 */
function loaderWithPreloads(Hls, preloaded) {
  return class extends Hls.DefaultConfig.loader {
    load(context, config, callbacks) {
      // hls.js passes the master's URL as given to loadSource (relative here), the others absolute.
      const url = new URL(context.url, location.href).href;
      const answer = preloaded.get(url) ?? null;
      preloaded.delete(url);
      if (!answer) return super.load(context, config, callbacks);
      answer.then((got) => {
        if (this.gone) return;
        if (got === null) return super.load(context, config, callbacks);
        // When it was really asked for and came (hls.js judges a live playlist's age by its load time).
        this.stats.loading.start = got.askedAt;
        this.stats.loading.first = got.at;
        this.stats.loading.end = got.at;
        this.stats.loaded = this.stats.total = got.text.length;
        // The absolute URL, as an XHR's: hls.js resolves the variants against it, and adds LL-HLS
        // delivery directives with new URL(), which throws on a relative one (plain polls then).
        callbacks.onSuccess({ url, data: got.text, code: 200 }, this.stats, context, null);
      });
    }
    abort() { this.gone = true; super.abort(); }
    destroy() { this.gone = true; super.destroy(); }
  };
}

async function startHlsJs() {
  // Low latency: start at the first buffered frame (startEarly), then catch up (up to 1.5× speed) to the playlist's PART-HOLD-BACK behind the live edge.
  const earlyStart = params.get('early') !== '0';
  const preloaded = earlyStart ? fetchStartPreloads() : null;
  await loadScript('/vendor/hls.min.js');
  // @ts-ignore the UMD global
  const Hls = window.Hls;
  const hls = new Hls({
    lowLatencyMode: params.get('lowLatency') !== '0',
    backBufferLength: 30,
    maxLiveSyncPlaybackRate: 1.5,
    startOnSegmentBoundary: earlyStart,
    enableWorker: params.get('worker') === '1',
    ...(preloaded ? { pLoader: loaderWithPreloads(Hls, preloaded) } : {}),
  });
  if (earlyStart) hls.on(Hls.Events.BUFFER_APPENDED, () => startEarly(hls));
  state.player = 'hls.js';
  traceStart(hls, Hls);
  hls.on(Hls.Events.MANIFEST_LOADED, (_e, data) => {
    for (const level of data.levels ?? []) {
      const pathway = level.attrs?.['PATHWAY-ID'];
      if (!pathway) continue;
      for (const u of [].concat(level.url ?? [])) {
        try { cdnByOrigin.set(new URL(u, location.href).origin, pathway); } catch {}
      }
    }
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_e, data) => {
    const level = hls.levels[data.level];
    const url = [].concat(level?.url ?? [])[0] ?? '';
    noteRendition(/\/live\/[^/]+\/([^/]+)\/index\.m3u8/.exec(url)?.[1] ?? null);
  });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    const url = data.frag?.url ?? data.context?.url ?? data.url;
    state.errors.push({ fatal: !!data.fatal, details: String(data.details), reason: data.reason ?? data.error?.message, url, atMs: Math.round(performance.now() - qoe.loadStartedAt) });
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR) reportCdnError(url, errorKind(String(data.details), data.response?.code));
    if (!data.fatal) return;
    qoe.errors++; // fatal ones only: hls.js reports many recoverable hiccups as errors
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else if (data.type === Hls.ErrorTypes.NETWORK_ERROR) setTimeout(() => hls.startLoad(), 1000);
    else { showMessage('failed'); hls.destroy(); started = false; }
  });
  // Start-up counts from the player's start, as for every player here; the master may be in already
  // (preloaded with the page), which only the page's navigation-to-first-frame shows.
  qoe.loadStartedAt = performance.now();
  // The source once the video's MediaSource is open (hls.js's documented order): a master answered
  // at once from the preloads would otherwise reach hls.js before it has somewhere to load into.
  hls.once(Hls.Events.MEDIA_ATTACHED, () => hls.loadSource(masterUrl));
  hls.attachMedia(video);
}

function startNative() {
  state.player = 'native';
  qoe.loadStartedAt = performance.now();
  video.src = masterUrl;
  video.addEventListener('error', () => { qoe.errors++; state.errors.push({ fatal: true, details: `MEDIA_ERR_${video.error?.code}` }); });
}

async function startDash() {
  await loadScript('/vendor/dash.all.min.js');
  // @ts-ignore the UMD global
  const dashjs = window.dashjs;
  const player = dashjs.MediaPlayer().create();
  state.player = 'dash.js';
  player.updateSettings({
    debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
    // Renditions are muxed (video + audio in one Representation): Chromium's MediaCapabilities
    // refuses the two-codec content type dash.js builds for it, MediaSource.isTypeSupported accepts it.
    streaming: { capabilities: { useMediaCapabilitiesApi: false } },
  });
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => {
    qoe.errors++;
    state.errors.push({ fatal: true, details: String(e.error?.message ?? e.error?.code ?? 'dash.js error') });
  });
  player.on(dashjs.MediaPlayer.events.QUALITY_CHANGE_RENDERED, (e) => noteRendition(e.newRepresentation?.id ?? null));
  qoe.loadStartedAt = performance.now();
  player.initialize(video, playbackUrl('manifest.mpd', false), true);
}

async function startPlayer() {
  if (started) return;
  started = true;
  showMessage('starting');
  const choice = params.get('player');
  try {
    if (choice === 'dash') await startDash();
    else if (choice === 'native' || (choice !== 'hls' && isSafari() && video.canPlayType('application/vnd.apple.mpegurl'))) startNative();
    else await startHlsJs();
  } catch (err) {
    started = false;
    state.errors.push({ fatal: true, details: String(err) });
    showMessage('failed');
  }
}

// ---- stream status -----------------------------------------------------------------------
/** Acts on a status answer (`status.json`, or the copy the edge wrote into the page). */
function applyStatus(body) {
  state.status = body.status;
  if (body.status === 'live' && body.playable) startPlayer();
  else if (body.status === 'live') { if (!state.playing) showMessage('starting'); }
  else if (body.status === 'idle') showMessage('idle');
  else if (body.status === 'reconnecting' || body.status === 'error') showMessage(body.status);
  else if (body.status === 'ended') { if (body.playable && !started) startPlayer(); if (!state.playing || video.ended) showMessage('ended'); }
  else if (state.playing) showMessage(null);
  if (body.status === 'live' && state.playing) showMessage(null);
  showStatus();
}

function showStatus() {
  statusEl.textContent = state.status ?? '…';
  statusEl.dataset.status = state.status ?? '';
}

async function pollStatus() {
  let next = 3000;
  try {
    const res = await fetch(`${base}/status.json`, { cache: 'no-store' });
    if (res.status === 404) { state.status = 'unknown'; showMessage('unknown'); next = 10_000; }
    else if (res.status === 410) { state.status = 'gone'; showMessage('gone'); showStatus(); return; }
    else if (res.ok) applyStatus(await res.json());
  } catch {
    // the edge is out of reach: keep the last message and ask again
  }
  showStatus();
  setTimeout(pollStatus, next);
}

/** The status the edge wrote into the page when it served it: playback starts without asking first. */
function statusInPage() {
  try {
    return JSON.parse(document.querySelector('meta[name="edgelive-status"]')?.getAttribute('content') || 'null');
  } catch {
    return null;
  }
}

if (!streamId) showMessage('unknown');
else {
  const known = statusInPage();
  if (known) {
    applyStatus(known);
    setTimeout(pollStatus, 3000);
  } else pollStatus();
}
