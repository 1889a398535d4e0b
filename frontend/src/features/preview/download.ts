// A whole download read chunk by chunk, so the page can say how far it is: a 20 MB mesh takes
// a moment on a phone's connection, and the bar moving says the page is not stuck.

/** Every byte of `stream` (none for a body-less answer), `progress` told the bytes received
 * so far after each chunk; `expected` (the file's size) sizes the buffer once. */
export async function readAll(stream: ReadableStream<Uint8Array> | null | undefined, expected: number,
  progress: (received: number) => void): Promise<ArrayBuffer> {
  if (!stream) return new ArrayBuffer(0)
  const reader = stream.getReader()
  let buffer = new Uint8Array(Math.max(expected, 0))
  let received = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (received + value.length > buffer.length) buffer = grown(buffer, received + value.length)
    buffer.set(value, received)
    received += value.length
    progress(received)
  }
  return received === buffer.length ? buffer.buffer : buffer.slice(0, received).buffer
}

/** A bigger copy (the file was larger than said): at least double, so growing stays cheap. */
function grown(buffer: Uint8Array, needed: number): Uint8Array<ArrayBuffer> {
  const bigger = new Uint8Array(Math.max(needed, buffer.length * 2))
  bigger.set(buffer)
  return bigger
}

/** How far a download is, in whole percent (what a progress line shows; 0 for an empty file). */
export function percent(received: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((received / total) * 100)) : 0
}
