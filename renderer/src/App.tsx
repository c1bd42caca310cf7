import { useEffect, useState } from 'react';
import { LibraryView } from './views/LibraryView';
import { SessionView } from './views/SessionView';
import { SettingsView } from './views/SettingsView';

type Route = { view: 'library' } | { view: 'settings' } | { view: 'session'; sessionId: number };

/** Routing lives in the hash so a reload (or a web-mode bookmark) keeps the view, with no router dependency. */
function parseHash(hash: string): Route {
  if (hash === '#/settings') return { view: 'settings' };
  const m = /^#\/session\/(\d+)$/.exec(hash);
  return m ? { view: 'session', sessionId: Number(m[1]) } : { view: 'library' };
}

export function navigate(route: Route): void {
  location.hash =
    route.view === 'session'
      ? `#/session/${route.sessionId}`
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
  return route.view === 'session' ? (
    <SessionView
      key={route.sessionId}
      sessionId={route.sessionId}
      onBack={() => navigate({ view: 'library' })}
    />
  ) : (
    <LibraryView
      onOpen={(sessionId) => navigate({ view: 'session', sessionId })}
      onSettings={() => navigate({ view: 'settings' })}
    />
  );
}
