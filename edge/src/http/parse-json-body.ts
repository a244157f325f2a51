import { EdgeliveError } from '../../../shared/src/errors.ts';

const decoder = new TextDecoder();

/** Parses a JSON request body; an empty body reads as `{}` so optional-only bodies may be left out. */
export function parseJsonBody(bytes: Uint8Array): unknown {
  const text = decoder.decode(bytes);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new EdgeliveError('bad_request', 'body: not valid JSON', { cause });
  }
}

/** Reads and parses the request's JSON body. */
export async function readJsonBody(req: Request): Promise<unknown> {
  return parseJsonBody(new Uint8Array(await req.arrayBuffer()));
}
