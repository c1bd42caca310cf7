import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  IPC_CALL_PREFIX,
  IPC_EVENT_CHANNEL,
  type ApiErrorBody,
  type ApiEventName,
  type ApiEvents,
  type StudioApi,
} from './api';

// Exposes THE contract (preload/api.ts) as window.studio; the renderer never sees ipcRenderer itself.
const api: StudioApi = {
  transport: 'electron',
  async call(method, req) {
    const r = (await ipcRenderer.invoke(IPC_CALL_PREFIX + method, req)) as
      { ok: true; value: never } | { ok: false; error: ApiErrorBody };
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  },
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void) {
    const handler = (_e: IpcRendererEvent, name: string, payload: ApiEvents[E]) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    return () => void ipcRenderer.off(IPC_EVENT_CHANNEL, handler);
  },
};

contextBridge.exposeInMainWorld('studio', api);
