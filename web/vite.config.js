import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

/*
 * `npm run dev` serves the page with live reload and passes the API to a
 * running weft (WEFT_URL, default http://127.0.0.1:8085), so the page and
 * the server are one origin as they are under /ui.
 */
const weft = process.env.WEFT_URL || 'http://127.0.0.1:8085';

export default defineConfig({
  plugins: [preact()],
  base: './',
  build: { outDir: '../build/web', emptyOutDir: true },
  server: {
    proxy: Object.fromEntries(['/v1', '/health'].map((p) => [p, { target: weft }])),
  },
});
