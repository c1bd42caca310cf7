/** Pieces every page header shares: the way back to the library and the dismissable error alert. */

export function BackLink({ onBack }: { onBack: () => void }) {
  return (
    <a
      href="#/"
      className="back-link"
      onClick={(e) => {
        e.preventDefault();
        onBack();
      }}
    >
      ← Library
    </a>
  );
}

export function ErrorAlert({ error, onDismiss }: { error: string | null; onDismiss: () => void }) {
  if (!error) return null;
  return (
    <div className="alert" role="alert" data-testid="error">
      <span>{error}</span>
      <button className="btn-link" onClick={onDismiss} aria-label="Dismiss">
        ×
      </button>
    </div>
  );
}
