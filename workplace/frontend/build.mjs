// Bundles the workplace's scripts (htmx, wavesurfer.js and our own) into one file Django serves as a
// static file: ../static/workplace/build/workplace.js. Run by scripts/_common.sh (npm ci, npm run build).
import { build } from "esbuild";

await build({
  entryPoints: ["src/workplace.js"],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "iife",
  target: ["chrome110", "firefox115", "safari16"],
  outfile: "../static/workplace/build/workplace.js",
  logLevel: "info",
});
