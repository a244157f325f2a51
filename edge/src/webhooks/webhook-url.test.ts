import { describe, expect, it } from 'vitest';
import { webhookUrlRefusal } from './webhook-url.ts';

describe('webhook receiver URLs', () => {
  it.each([
    ['https://hooks.example.com/edgelive', 'production', null],
    ['https://hooks.example.com:8443/x?y=1', 'production', null],
    ['https://[2001:db8::1]/x', 'production', null],
    ['http://hooks.example.com/x', 'production', 'url: must be https (plain http only to loopback in local development)'],
    ['http://127.0.0.1:9999/hook', 'production', 'url: must be https (plain http only to loopback in local development)'],
    ['https://127.0.0.1/hook', 'production', 'url: 127.0.0.1 is not a public host'],
    ['https://localhost/hook', 'production', 'url: localhost is not a public host'],
    ['https://10.1.2.3/hook', 'production', 'url: 10.1.2.3 is not a public host'],
    ['https://172.20.0.1/hook', 'production', 'url: 172.20.0.1 is not a public host'],
    ['https://192.168.1.1/hook', 'production', 'url: 192.168.1.1 is not a public host'],
    ['https://169.254.169.254/latest/meta-data', 'production', 'url: 169.254.169.254 is not a public host'],
    ['https://100.64.0.1/hook', 'production', 'url: 100.64.0.1 is not a public host'],
    ['https://[::1]/hook', 'production', 'url: [::1] is not a public host'],
    ['https://[fd00::1]/hook', 'production', 'url: [fd00::1] is not a public host'],
    ['https://[::ffff:10.0.0.1]/hook', 'production', 'url: [::ffff:a00:1] is not a public host'],
    ['https://metadata.google.internal/x', 'production', 'url: metadata.google.internal is not a public host'],
    ['https://intranet/x', 'production', 'url: intranet is not a public host'],
    ['https://user:pass@hooks.example.com/x', 'production', 'url: credentials in the URL are not allowed'],
    ['http://127.0.0.1:9999/hook', 'development', null],
    ['http://localhost:9999/hook', 'development', null],
    ['http://[::1]:9999/hook', 'development', null],
    ['http://10.0.0.5/hook', 'development', 'url: must be https (plain http only to loopback in local development)'],
    ['http://hooks.example.com/x', 'development', 'url: must be https (plain http only to loopback in local development)'],
  ] as const)('%s in %s → %s', (url, environment, refusal) => {
    expect(webhookUrlRefusal(url, environment)).toBe(refusal);
  });
});
