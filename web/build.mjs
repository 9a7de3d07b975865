// Bundles src/ into dist/ (app.js, app.css, and the licenses of what they contain).
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir: 'dist',
  legalComments: 'external',
  logLevel: 'info',
});
