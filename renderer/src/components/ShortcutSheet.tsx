import { PLAYER_SHORTCUTS, SHORTCUTS } from './annotation-shortcuts';

/** Every shortcut of the annotation editor and the player, from the same table the keys are matched with. */
export function ShortcutSheet({ onClose }: { onClose: () => void }) {
  const rows = [...SHORTCUTS.map((s) => ({ keys: s.keys, what: s.what, id: s.action })), ...PLAYER_SHORTCUTS];
  return (
    <div className="ann-sheet" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcut-sheet">
      <div className="ann-picker-head">
        <strong>Keyboard shortcuts</strong>
        <span className="muted">not while typing in a field</span>
        <button className="btn-link" aria-label="Close the shortcuts" onClick={onClose}>
          ×
        </button>
      </div>
      <table className="ann-sheet-table">
        <tbody>
          {rows.map((r) => (
            <tr key={r.keys.join()} data-testid="shortcut-row" data-action={'id' in r ? r.id : undefined}>
              <td>
                {r.keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && ' / '}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </td>
              <td>{r.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
