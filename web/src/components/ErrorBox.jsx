/*
 * ErrorBox — an error as the server put it.
 *   error: an ApiError (its message, and the field it names), any Error, a
 *   string, or null (renders nothing); onRetry: shows a "Try again" button.
 */
export default function ErrorBox({ error, onRetry }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message || String(error);
  return (
    <div class="error-box" role="alert" data-testid="error">
      <strong>{error.status ? `Error ${error.status}` : 'Error'}</strong>{' '}
      <span>{message}</span>
      {error.field && <span class="muted"> (field: <code>{error.field}</code>)</span>}
      {onRetry && <button type="button" onClick={onRetry}>Try again</button>}
    </div>
  );
}
