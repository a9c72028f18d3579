/*
 * TokenDialog — asks for the bearer token. Opened by the shell when a call
 * answers 401 (`refused`: the stored token was turned down) or by the
 * token button. Saving stores the token in localStorage (api.setToken), so
 * it is asked for once per browser; "Sign out" forgets it.
 */
import { useState } from 'preact/hooks';
import Dialog from '../components/Dialog.jsx';
import { setToken, token } from './api.js';

export default function TokenDialog({ open, refused, onClose }) {
  const [value, setValue] = useState('');
  const had = token() !== '';
  // Emptied as it closes, so that it is empty when it opens again.
  const close = () => { setValue(''); onClose(); };
  const save = (e) => {
    e.preventDefault();
    const t = value.trim();
    if (!t) return;
    close();
    setToken(t);
  };
  const signOut = () => { close(); setToken(''); };
  return (
    <Dialog open={open} onClose={close} title="Access token" testid="token-dialog">
      <form onSubmit={save} class="stack">
        {refused
          ? <p role="alert" data-testid="token-refused">{had ? 'The server refused the stored token.' : 'This server needs a token.'} Enter a bearer token to go on.</p>
          : <p>The token is kept in this browser until you sign out.</p>}
        <label>
          Token
          <input type="password" name="token" autocomplete="off" data-testid="token-input" value={value}
            onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        <div class="row">
          <button type="submit" class="primary" data-testid="token-save" disabled={!value.trim()}>Save</button>
          {had && <button type="button" data-testid="token-signout" onClick={signOut}>Sign out</button>}
        </div>
      </form>
    </Dialog>
  );
}
