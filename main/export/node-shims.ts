/**
 * The one browser API three's GLTFExporter needs that Node (20+) lacks: FileReader, with which it
 * turns its Blob of buffers into the GLB's binary chunk (readAsArrayBuffer) or a data URI
 * (readAsDataURL). Node has Blob (blob.arrayBuffer()); this reader wraps it. Installed on globalThis
 * only where no FileReader exists (Electron's renderer has the real one), and it is enough for
 * GLTFExporter's use: one read per reader, `result` then `onloadend`.
 */

type Handler = (() => void) | null;

class BlobFileReader {
  result: ArrayBuffer | string | null = null;
  error: Error | null = null;
  onload: Handler = null;
  onloadend: Handler = null;
  onerror: Handler = null;

  readAsArrayBuffer(blob: Blob): void {
    this.read(blob.arrayBuffer());
  }

  readAsDataURL(blob: Blob): void {
    this.read(
      blob
        .arrayBuffer()
        .then(
          (b) =>
            `data:${blob.type || 'application/octet-stream'};base64,${Buffer.from(b).toString('base64')}`,
        ),
    );
  }

  private read(p: Promise<ArrayBuffer | string>): void {
    p.then(
      (r) => {
        this.result = r;
        this.onload?.();
        this.onloadend?.();
      },
      (err: Error) => {
        this.error = err;
        this.onerror?.();
        this.onloadend?.();
      },
    );
  }
}

/** Makes sure globalThis.FileReader exists (idempotent). */
export function ensureFileReader(): void {
  const g = globalThis as { FileReader?: unknown };
  if (typeof g.FileReader === 'undefined') g.FileReader = BlobFileReader;
}
