import { lazy, Suspense, useEffect, useState } from 'react';
import { LibraryView } from './views/LibraryView';
import { SessionView } from './views/SessionView';
import { SettingsView } from './views/SettingsView';

// The fit review brings three.js and uPlot: a chunk of its own, loaded when the view is first opened.
const FitReviewView = lazy(() => import('./views/FitReviewView').then((m) => ({ default: m.FitReviewView })));

type Route =
  | { view: 'library' }
  | { view: 'settings' }
  | { view: 'session'; sessionId: number }
  | { view: 'fit'; sessionId: number };

/** Routing lives in the hash so a reload (or a web-mode bookmark) keeps the view, with no router dependency. */
function parseHash(hash: string): Route {
  if (hash === '#/settings') return { view: 'settings' };
  const m = /^#\/session\/(\d+)(\/fit)?$/.exec(hash);
  if (!m) return { view: 'library' };
  return { view: m[2] ? 'fit' : 'session', sessionId: Number(m[1]) };
}

export function navigate(route: Route): void {
  location.hash =
    route.view === 'session'
      ? `#/session/${route.sessionId}`
      : route.view === 'fit'
        ? `#/session/${route.sessionId}/fit`
        : route.view === 'settings'
          ? '#/settings'
          : '#/';
}

export function App() {
  const [route, setRoute] = useState<Route>(() => parseHash(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  if (route.view === 'settings') return <SettingsView onBack={() => navigate({ view: 'library' })} />;
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
  return route.view === 'session' ? (
    <SessionView
      key={route.sessionId}
      sessionId={route.sessionId}
      onBack={() => navigate({ view: 'library' })}
      onReviewFit={() => navigate({ view: 'fit', sessionId: route.sessionId })}
    />
  ) : (
    <LibraryView
      onOpen={(sessionId) => navigate({ view: 'session', sessionId })}
      onSettings={() => navigate({ view: 'settings' })}
    />
  );
}
