import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Standalone renderer build (`npm run build:renderer`), same output as electron-vite's renderer bundle.
// base './' keeps asset URLs relative so the bundle works from file:// in Electron and from `/` in web mode.
export default defineConfig({
  root: __dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: resolve(__dirname, '../out/renderer'),
    emptyOutDir: true,
  },
});
