import { render } from 'preact';
import Shell from './app/Shell.jsx';
import { initTheme } from './app/theme.js';
import './app/styles.css';

initTheme();

/* ArcRun's /view?batch=ID opens that run. */
const batch = new URLSearchParams(location.search).get('batch');
if (batch && !location.hash) location.hash = `#/runs/${encodeURIComponent(batch)}`;

render(<Shell />, document.getElementById('app'));
