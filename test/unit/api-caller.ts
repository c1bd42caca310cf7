import { expect } from 'vitest';

export interface ApiAnswer {
  status: number;
  body: any;
}

/**
 * Calls of the web API as the renderer makes them (POST /api/<method> with the bearer token), for tests
 * that talk to a real server; `where` is read at each call (servers start in beforeAll).
 */
export function apiCaller(where: () => { base: string; token: string }): {
  call: (method: string, body: unknown) => Promise<ApiAnswer>;
  ok: <T = any>(method: string, body: unknown) => Promise<T>;
} {
  const call = async (method: string, body: unknown): Promise<ApiAnswer> => {
    const { base, token } = where();
    const res = await fetch(`${base}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  /** The answer's body, failing with the server's message unless it is a 200. */
  const ok = async <T = any>(method: string, body: unknown): Promise<T> => {
    const r = await call(method, body);
    expect(r.status, `${method}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body as T;
  };
  return { call, ok };
}
