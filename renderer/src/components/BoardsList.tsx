import { useState } from 'react';
import type { BoardInfo, BoardPrintFormat, FileDownload } from '../../../preload/api';
import { errorMessage, getApi } from '../api-client';

/** Saves a file the API returned: a blob URL clicked as a download link (Electron shows its save dialog). */
function saveDownload(file: FileDownload): void {
  const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: file.mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.fileName;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const mm = (m: number) => `${+(m * 1000).toFixed(1)}`;

/** The session's ChArUco boards, each with PNG and PDF print files (true scale) to download. */
export function BoardsList({
  sessionId,
  boards,
  onError,
}: {
  sessionId: number;
  boards: BoardInfo[];
  onError: (message: string) => void;
}) {
  const api = getApi();
  // "board/format" being generated, so its button shows progress and is not pressed twice.
  const [busy, setBusy] = useState<string | null>(null);

  const download = async (board: string, format: BoardPrintFormat) => {
    setBusy(`${board}/${format}`);
    try {
      saveDownload(await api.call('boardPrint', { sessionId, board, format }));
    } catch (err) {
      onError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  if (boards.length === 0) return null;
  return (
    <>
      <h2 style={{ marginTop: 16 }}>Boards</h2>
      <ul data-testid="boards">
        {boards.map((b) => (
          <li
            key={b.name}
            data-testid="board-row"
            data-board={b.name}
            className="camera-meta"
            style={{ padding: 6 }}
          >
            <span className="camera-name">{b.name}</span>
            <span className="muted" title={`legacy pattern: ${b.legacyPattern ? 'yes' : 'no'}`}>
              {b.squaresX}×{b.squaresY} · {mm(b.squareLength)}/{mm(b.markerLength)} mm · {b.dictionary} · ids{' '}
              {b.firstMarkerId}+
            </span>
            <span style={{ display: 'flex', gap: 4, marginTop: 4 }}>
              {(['png', 'pdf'] as const).map((format) => (
                <button
                  key={format}
                  className="btn btn-small"
                  data-testid={`board-${format}`}
                  disabled={busy !== null}
                  title={`Download ${b.name} as a print-ready ${format.toUpperCase()} (print at 100 %)`}
                  onClick={() => void download(b.name, format)}
                >
                  {busy === `${b.name}/${format}` ? '…' : format.toUpperCase()}
                </button>
              ))}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}
