import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createContext, type AppContext } from '../api/context';
import { HTTP_STATUS, toErrorBody } from '../api/errors';
import { dispatch } from '../api/handlers';
import { serveRegisteredMedia } from '../capture/media-range';
import { findRendererDir, readStatic } from './static';

export interface WebServer {
  url: string;
  port: number;
  token: string;
  ctx: AppContext;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

/**
 * Web mode: the same renderer and the same handler table over HTTP + WebSocket, on 127.0.0.1 only,
 * with a random token required on every request (header, `?token=` or the cookie set when the page
 * is first opened with the token), and a Host check against DNS rebinding.
 */
export async function startServer(opts: {
  dataDir: string;
  port?: number;
  token?: string;
}): Promise<WebServer> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  let port = 0;
  const cookieName = () => `studio_token_${port}`;
  const ctx = await createContext({
    dataDir: opts.dataDir,
    transport: 'web',
    mediaUrl: (id) => `/media/${id}?token=${encodeURIComponent(token)}`,
  });
  const rendererDir = findRendererDir();
  const expected = Buffer.from(token);

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const candidates: string[] = [];
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) candidates.push(auth.slice(7));
    const q = url.searchParams.get('token');
    if (q) candidates.push(q);
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, v] = part.trim().split('=');
      if (k === cookieName() && v) candidates.push(decodeURIComponent(v));
    }
    return candidates.some((c) => {
      const b = Buffer.from(c);
      return b.length === expected.length && timingSafeEqual(b, expected);
    });
  };
  const hostOk = (req: IncomingMessage) => {
    const host = req.headers.host ?? '';
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  };

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (!hostOk(req)) return sendJson(res, 403, { code: 'unauthorized', message: 'unexpected Host header' });
    if (!authorized(req, url)) {
      return sendJson(res, 401, {
        code: 'unauthorized',
        message: 'missing or wrong token; open the URL printed by studio serve',
      });
    }
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const method = url.pathname.slice(5);
      let raw: unknown;
      try {
        raw = await readJsonBody(req);
      } catch (err) {
        return sendJson(res, 400, { code: 'invalid-request', message: (err as Error).message });
      }
      try {
        return sendJson(res, 200, await dispatch(ctx, method, raw));
      } catch (err) {
        const body = toErrorBody(err);
        return sendJson(res, HTTP_STATUS[body.code], body);
      }
    }
    if (req.method === 'GET' && url.pathname.startsWith('/media/')) {
      const reply = await serveRegisteredMedia(ctx.db, Number(url.pathname.slice(7)), req.headers.range);
      if (!reply) return sendJson(res, 404, { code: 'not-found', message: 'no such media' });
      res.writeHead(reply.status, reply.headers);
      if (reply.body) reply.body.pipe(res);
      else res.end();
      return;
    }
    if (req.method === 'GET') {
      if (!rendererDir)
        return sendJson(res, 404, { code: 'not-found', message: 'renderer not built: run npm run build' });
      const file = readStatic(rendererDir, url.pathname === '/' ? '/index.html' : url.pathname);
      if (!file) return sendJson(res, 404, { code: 'not-found', message: `no file ${url.pathname}` });
      const headers: Record<string, string> = {
        'content-type': file.type,
        'x-content-type-options': 'nosniff',
      };
      if (file.type.startsWith('text/html')) {
        headers['content-security-policy'] = CSP;
        headers['set-cookie'] =
          `${cookieName()}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
      }
      res.writeHead(200, headers);
      return res.end(file.body);
    }
    sendJson(res, 405, { code: 'invalid-request', message: `${req.method} not allowed` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, toErrorBody(err));
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/events' || !hostOk(req) || !authorized(req, url)) {
      socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const off = ctx.subscribe((event, payload) => ws.send(JSON.stringify({ event, payload })));
      ws.on('close', off);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${encodeURIComponent(token)}`,
    port,
    token,
    ctx,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await ctx.close();
    },
  };
}

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else parts.push(d);
    });
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new Error('request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}
