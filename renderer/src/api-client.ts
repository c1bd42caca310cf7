import type {
  ApiErrorBody,
  ApiEventName,
  ApiEvents,
  ApiMethod,
  ApiRequest,
  ApiResponse,
  StudioApi,
} from '../../preload/api';

declare global {
  interface Window {
    /** Set by the Electron preload through contextBridge; absent in web mode. */
    studio?: StudioApi;
  }
}

const TOKEN_KEY = 'studio.token';

/**
 * The token arrives once in the URL (`?token=...`); keep it in sessionStorage so reloads and hash
 * navigation keep working, and strip it from the address bar so it does not leak into history,
 * screenshots or copied links.
 */
function takeToken(): string {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    params.delete('token');
    const query = params.toString();
    history.replaceState(history.state, '', location.pathname + (query ? `?${query}` : '') + location.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

type AnyListener = (payload: unknown) => void;

/** One WebSocket for all events, opened lazily and reopened with backoff after a drop. */
class EventSocket {
  private ws: WebSocket | null = null;
  private listeners = new Map<string, Set<AnyListener>>();
  private backoffMs = 250;
  private everConnected = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly token: string) {}

  on(event: string, listener: AnyListener): () => void {
    const set = this.listeners.get(event) ?? new Set<AnyListener>();
    this.listeners.set(event, set);
    set.add(listener);
    this.ensureOpen();
    return () => {
      set.delete(listener);
    };
  }

  private dispatch(event: string, payload: unknown): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        l(payload);
      } catch (err) {
        console.error(`listener for ${event} failed`, err);
      }
    }
  }

  private ensureOpen(): void {
    if (this.ws || this.reconnectTimer) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/events?token=${encodeURIComponent(this.token)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.backoffMs = 250;
      // Events sent while we were disconnected are lost; tell views to re-read their data. This is a
      // transport-level resync hint, not a domain event the server claimed.
      if (this.everConnected) this.dispatch('libraryChanged', { reason: 'job-changed' });
      this.everConnected = true;
    };
    ws.onmessage = (msg) => {
      try {
        const { event, payload } = JSON.parse(String(msg.data)) as { event: string; payload: unknown };
        this.dispatch(event, payload);
      } catch (err) {
        console.error('bad event message', err);
      }
    };
    ws.onclose = () => {
      this.ws = null;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        this.ensureOpen();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 5000);
    };
    // onerror is always followed by onclose, which does the reconnecting.
    ws.onerror = () => undefined;
  }
}

function createWebApi(): StudioApi {
  const token = takeToken();
  const events = new EventSocket(token);
  return {
    transport: 'web',
    async call<M extends ApiMethod>(method: M, req: ApiRequest<M>): Promise<ApiResponse<M>> {
      const res = await fetch(`/api/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(req),
      });
      const text = await res.text();
      if (!res.ok) {
        let message = `${method}: HTTP ${res.status} ${res.statusText}`;
        try {
          const body = JSON.parse(text) as Partial<ApiErrorBody>;
          if (body.message) message = body.message;
        } catch {
          // Not JSON (proxy error page, etc.): keep the HTTP status message.
        }
        throw new Error(message);
      }
      return JSON.parse(text) as ApiResponse<M>;
    },
    on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
      return events.on(event, listener as AnyListener);
    },
  };
}

let instance: StudioApi | null = null;

/** The API for this renderer: Electron's preload bridge when present, else HTTP + WebSocket. */
export function getApi(): StudioApi {
  if (!instance) instance = window.studio ?? createWebApi();
  return instance;
}

/** Error text for display; IPC errors arrive wrapped as "Error invoking remote method ...: Error: msg". */
export function errorMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^Error invoking remote method '[^']*': (Error: )?/, '');
}
