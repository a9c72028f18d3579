import { render } from 'preact';
import Shell from './app/Shell.jsx';
import './app/styles.css';

/* ArcRun's /view?batch=ID opens that run. */
const batch = new URLSearchParams(location.search).get('batch');
if (batch && !location.hash) location.hash = `#/runs/${encodeURIComponent(batch)}`;

render(<Shell />, document.getElementById('app'));
