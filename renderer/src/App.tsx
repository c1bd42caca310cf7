import { lazy, Suspense, useEffect, useState } from 'react';
import type { SessionFocus } from './components/FamilyOccurrences';
import { LibraryView } from './views/LibraryView';
import { SessionView } from './views/SessionView';
import { SettingsView } from './views/SettingsView';

// The fit review brings three.js and uPlot: a chunk of its own, loaded when the view is first opened.
const FitReviewView = lazy(() => import('./views/FitReviewView').then((m) => ({ default: m.FitReviewView })));
// The model registry brings uPlot too; most sessions never open it.
const ModelsView = lazy(() => import('./views/ModelsView').then((m) => ({ default: m.ModelsView })));
// All views brings three.js too (the 3D fit among the cameras).
const MultiView = lazy(() => import('./views/MultiView').then((m) => ({ default: m.MultiView })));

type Route =
  | { view: 'library' }
  | { view: 'settings' }
  | { view: 'models' }
  | { view: 'session'; sessionId: number; focus?: SessionFocus; cameraId?: number }
  | { view: 'fit'; sessionId: number }
  | { view: 'views'; sessionId: number; frame?: number };

function int(v: string | null): number | undefined {
  return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** `?frame=10&end=30&model=1&family=3&all=1` after a session route: where to open and what to play. */
function parseFocus(query: string | undefined): SessionFocus | undefined {
  if (!query) return undefined;
  const q = new URLSearchParams(query);
  const frame = int(q.get('frame'));
  if (frame === undefined) return undefined;
  const end = int(q.get('end'));
  const modelId = int(q.get('model'));
  const family = int(q.get('family'));
  return {
    frame,
    ...(end !== undefined && end > frame ? { end } : {}),
    ...(modelId !== undefined && family !== undefined ? { modelId, family } : {}),
    ...(q.get('all') === '1' ? { all: true } : {}),
  };
}

function focusQuery(f: SessionFocus, cameraId?: number): string {
  const q = new URLSearchParams({ frame: String(f.frame) });
  if (cameraId !== undefined) q.set('camera', String(cameraId));
  if (f.end !== undefined) q.set('end', String(f.end));
  if (f.modelId !== undefined && f.family !== undefined) {
    q.set('model', String(f.modelId));
    q.set('family', String(f.family));
  }
  if (f.all) q.set('all', '1');
  return `?${q.toString()}`;
}

/** Routing lives in the hash so a reload (or a web-mode bookmark) keeps the view, with no router dependency. */
function parseHash(hash: string): Route {
  if (hash === '#/settings') return { view: 'settings' };
  if (hash === '#/models') return { view: 'models' };
  const m = /^#\/session\/(\d+)(\/fit|\/views)?(?:\?(.*))?$/.exec(hash);
  if (!m) return { view: 'library' };
  if (m[2] === '/fit') return { view: 'fit', sessionId: Number(m[1]) };
  if (m[2] === '/views') {
    const frame = int(new URLSearchParams(m[3] ?? '').get('frame'));
    return { view: 'views', sessionId: Number(m[1]), ...(frame !== undefined ? { frame } : {}) };
  }
  const focus = parseFocus(m[3]);
  // `camera` only goes with a frame (focusQuery writes both): the camera a multi-view tile opened.
  const cameraId = focus ? int(new URLSearchParams(m[3]).get('camera')) : undefined;
  return {
    view: 'session',
    sessionId: Number(m[1]),
    ...(focus ? { focus } : {}),
    ...(cameraId !== undefined ? { cameraId } : {}),
  };
}

function hashOf(route: Route): string {
  switch (route.view) {
    case 'session':
      return `#/session/${route.sessionId}${route.focus ? focusQuery(route.focus, route.cameraId) : ''}`;
    case 'fit':
      return `#/session/${route.sessionId}/fit`;
    case 'views':
      return `#/session/${route.sessionId}/views${route.frame !== undefined ? `?frame=${route.frame}` : ''}`;
    case 'settings':
      return '#/settings';
    case 'models':
      return '#/models';
    default:
      return '#/';
  }
}

export function navigate(route: Route): void {
  const hash = hashOf(route);
  // The same link again (play an occurrence a second time) sets no new hash: announce it anyway.
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

export function App() {
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (route.view === 'settings') return <SettingsView onBack={() => navigate({ view: 'library' })} />;
  if (route.view === 'models')
    return (
      <Suspense fallback={<p className="muted empty">Loading…</p>}>
        <ModelsView onBack={() => navigate({ view: 'library' })} />
      </Suspense>
    );
  if (route.view === 'fit')
    return (
      <Suspense fallback={<p className="muted empty">Loading…</p>}>
        <FitReviewView
          key={route.sessionId}
          sessionId={route.sessionId}
          onBack={() => navigate({ view: 'library' })}
          onSession={() => navigate({ view: 'session', sessionId: route.sessionId })}
        />
      </Suspense>
    );
  if (route.view === 'views')
    return (
      <Suspense fallback={<p className="muted empty">Loading…</p>}>
        <MultiView
          key={route.sessionId}
          sessionId={route.sessionId}
          initialFrame={route.frame}
          onBack={() => navigate({ view: 'library' })}
          onOpenCamera={(cameraId, frame) =>
            navigate({ view: 'session', sessionId: route.sessionId, focus: { frame }, cameraId })
          }
        />
      </Suspense>
    );
  return route.view === 'session' ? (
    <SessionView
      key={route.sessionId}
      sessionId={route.sessionId}
      focus={route.focus}
      initialCameraId={route.cameraId}
      onBack={() => navigate({ view: 'library' })}
      onReviewFit={() => navigate({ view: 'fit', sessionId: route.sessionId })}
      onAllViews={(frame) => navigate({ view: 'views', sessionId: route.sessionId, frame })}
      onFocus={(sessionId, focus) => navigate({ view: 'session', sessionId, focus })}
    />
  ) : (
    <LibraryView
      onOpen={(sessionId) => navigate({ view: 'session', sessionId })}
      onSettings={() => navigate({ view: 'settings' })}
      onModels={() => navigate({ view: 'models' })}
    />
  );
}
