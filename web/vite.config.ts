// Builds the single-page application into dist/, which zengen serves (src/web). The output must
// satisfy zengen's Content-Security-Policy: no inline scripts or styles, no data: fonts.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
  },
});
