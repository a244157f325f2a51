/** Test-only: one whole FLV tag (11-byte header, body, previous-tag size), as node-media-server hands them out. */
export function flvTag(type: number, body: number[]): Buffer {
  const tag = Buffer.alloc(11 + body.length + 4);
  tag[0] = type;
  tag.writeUIntBE(body.length, 1, 3);
  Buffer.from(body).copy(tag, 11);
  tag.writeUInt32BE(11 + body.length, 11 + body.length);
  return tag;
}
