import { NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { isMissingObject, isRetryableS3Error, storeErrorCodeFor } from './s3-error-classification.ts';

function serviceError(name: string, status: number): S3ServiceException {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
}

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('S3 error classification', () => {
  it.each([
    ['InternalError 500', serviceError('InternalError', 500)],
    ['ServiceUnavailable 503', serviceError('ServiceUnavailable', 503)],
    ['SlowDown 503', serviceError('SlowDown', 503)],
    ['429 without a known name', serviceError('Unknown', 429)],
    ['throttling name on a 400', serviceError('ThrottlingException', 400)],
    ['SDK timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
    ['ECONNRESET', networkError('ECONNRESET')],
    ['ECONNREFUSED', networkError('ECONNREFUSED')],
  ])('retries %s and gives up with store_unavailable', (_label, error) => {
    expect(isRetryableS3Error(error)).toBe(true);
    expect(storeErrorCodeFor(error)).toBe('store_unavailable');
  });

  it.each([
    ['AccessDenied 403', serviceError('AccessDenied', 403)],
    ['NoSuchBucket 404', serviceError('NoSuchBucket', 404)],
    ['InvalidArgument 400', serviceError('InvalidArgument', 400)],
  ])('does not retry %s and reports store_rejected', (_label, error) => {
    expect(isRetryableS3Error(error)).toBe(false);
    expect(storeErrorCodeFor(error)).toBe('store_rejected');
  });

  it('treats an error with no HTTP answer as store_unavailable without retrying it', () => {
    const error = networkError('ENOTFOUND');
    expect(isRetryableS3Error(error)).toBe(false);
    expect(storeErrorCodeFor(error)).toBe('store_unavailable');
  });

  it('tells a missing object from a missing bucket', () => {
    const meta = { $metadata: { httpStatusCode: 404 } };
    expect(isMissingObject(new NoSuchKey({ message: 'no key', ...meta }))).toBe(true);
    expect(isMissingObject(new NotFound({ message: 'no key (HEAD)', ...meta }))).toBe(true);
    expect(isMissingObject(new NoSuchBucket({ message: 'no bucket', ...meta }))).toBe(false);
    expect(isMissingObject(serviceError('InternalError', 500))).toBe(false);
  });
});
