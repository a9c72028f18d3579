/*
 * HelpOverlay — the keyboard shortcuts: the shell's, then those the views
 * on screen registered (shortcuts.js useShortcuts).
 */
import { useEffect, useState } from 'preact/hooks';
import Dialog from '../components/Dialog.jsx';
import { nav } from '../views.js';
import { onShortcutsChange, viewShortcuts } from './shortcuts.js';

export default function HelpOverlay({ open, onClose }) {
  const [, setTick] = useState(0);
  useEffect(() => onShortcutsChange(() => setTick((n) => n + 1)), []);
  const own = viewShortcuts();
  return (
    <Dialog open={open} onClose={onClose} title="Keyboard shortcuts" testid="help">
      <table class="keys">
        <tbody>
          {nav.map((n) => (
            <tr key={n.path}><td><kbd>g</kbd> <kbd>{n.key}</kbd></td><td>Go to {n.label}</td></tr>
          ))}
          <tr><td><kbd>/</kbd></td><td>Search in this view</td></tr>
          <tr><td><kbd>?</kbd></td><td>This help</td></tr>
          <tr><td><kbd>Esc</kbd></td><td>Close a dialog</td></tr>
          {own.map((s) => <tr key={s.key}><td><kbd>{s.key}</kbd></td><td>{s.description}</td></tr>)}
        </tbody>
      </table>
    </Dialog>
  );
}
