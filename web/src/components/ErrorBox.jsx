/*
 * ErrorBox — an error as the server put it.
 *   error: an ApiError (its message, and each "field: problem" detail), any Error, a
 *   string, or null (renders nothing); onRetry: shows a "Try again" button;
 *   hint: a sentence under the message saying what the user can do about it;
 *   testid: the box's data-testid (default "error"), for views with several boxes.
 */
export default function ErrorBox({ error, onRetry, hint, testid = 'error' }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message || String(error);
  return (
    <div class="error-box" role="alert" data-testid={testid}>
      <strong>{error.status ? `Error ${error.status}` : 'Error'}</strong>{' '}
      <span>{message}</span>
      {error.details && error.details.length > 0 && (
        <ul class="error-details">
          {error.details.map((d) => <li key={d} data-testid="error-field"><code>{d}</code></li>)}
        </ul>
      )}
      {hint && <div class="muted">{hint}</div>}
      {onRetry && <button type="button" onClick={onRetry}>Try again</button>}
    </div>
  );
}
