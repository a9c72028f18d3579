/*
 * ErrorBox — an error as the server put it.
 *   error: an ApiError (its message, and each "field: problem" detail), any Error, a
 *   string, or null (renders nothing); onRetry: shows a "Try again" button.
 */
export default function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message || String(error);
  return (
    <div class="error-box" role="alert" data-testid="error">
      <strong>{error.status ? `Error ${error.status}` : 'Error'}</strong>{' '}
      <span>{message}</span>
      {error.details && error.details.length > 0 && (
        <ul class="error-details">{error.details.map((d) => <li key={d}><code>{d}</code></li>)}</ul>
      )}
      {onRetry && <button type="button" onClick={onRetry}>Try again</button>}
    </div>
  );
}
