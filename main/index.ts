import { join } from 'node:path';
import { Readable } from 'node:stream';
import { app, BrowserWindow, dialog, ipcMain, protocol, session } from 'electron';
import { API_METHODS, IPC_CALL_PREFIX, IPC_EVENT_CHANNEL, MEDIA_PROTOCOL } from '../preload/api';
import { createContext } from './api/context';
import { toErrorBody } from './api/errors';
import { dispatch } from './api/handlers';
import { serveRegisteredMedia } from './capture/media-range';

// The thin Electron entry: a window, the IPC transport over the shared handler table, and the media
// protocol. Everything else lives in testable modules that run without Electron.

protocol.registerSchemesAsPrivileged([
  {
    scheme: MEDIA_PROTOCOL,
    privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true },
  },
]);

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (e) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (e) => e.preventDefault());
});

async function start(): Promise<void> {
  const ctx = await createContext({
    dataDir: process.env.MOTION_STUDIO_DATA_DIR ?? app.getPath('userData'),
    transport: 'electron',
    mediaUrl: (id) => `${MEDIA_PROTOCOL}://media/${id}`,
    pickFolder: async () => {
      const r = await dialog.showOpenDialog({ properties: ['openDirectory'] });
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));

  // Only media rows registered for a session are reachable; there is no file:// access from the UI.
  protocol.handle(MEDIA_PROTOCOL, async (request) => {
    const url = new URL(request.url);
    const r =
      url.host === 'media'
        ? await serveRegisteredMedia(ctx.db, Number(url.pathname.slice(1)), request.headers.get('range'))
        : null;
    if (!r) return new Response('not found', { status: 404 });
    const body = r.body ? (Readable.toWeb(r.body) as ReadableStream) : null;
    return new Response(body, { status: r.status, headers: r.headers });
  });

  for (const method of API_METHODS) {
    ipcMain.handle(IPC_CALL_PREFIX + method, async (_e, req: unknown) => {
      try {
        return { ok: true, value: await dispatch(ctx, method, req) };
      } catch (err) {
        return { ok: false, error: toErrorBody(err) };
      }
    });
  }
  ctx.subscribe((event, payload) => {
    for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC_EVENT_CHANNEL, event, payload);
  });
  app.on('before-quit', () => void ctx.close());

  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Motion Studio',
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  await win.loadFile(join(__dirname, '../renderer/index.html'));
}

app.whenReady().then(start, (err) => {
  dialog.showErrorBox('Motion Studio', String(err));
  app.quit();
});
app.on('window-all-closed', () => app.quit());
