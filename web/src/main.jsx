import { render } from 'preact';
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import uPlot from 'uplot';
cytoscape.use(dagre);
render(<p>weft {typeof uPlot}</p>, document.getElementById('app'));
