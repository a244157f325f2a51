import type { MiddlewareHandler } from 'hono';

/** Players run on other origins: every playback answer, errors included, is readable cross-origin. */
export const playbackCors: MiddlewareHandler = async (c, next) => {
  if (c.req.method === 'OPTIONS') {
    return new Response(null, {
      status: 204,
      headers: {
        'Access-Control-Allow-Origin': '*',
        // Player beacons (QoE and CDN errors) are the only playback POSTs.
        'Access-Control-Allow-Methods': /\/(beacon|cdn-errors)$/.test(c.req.path) ? 'POST, OPTIONS' : 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': c.req.header('access-control-request-headers') ?? '*',
        'Access-Control-Max-Age': '86400',
      },
    });
  }
  await next();
  c.res.headers.set('Access-Control-Allow-Origin', '*');
};
