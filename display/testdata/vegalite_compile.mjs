// Compiles Vega-Lite specs with the real vega-lite package and runs the
// resulting Vega dataflow headlessly, as a frontend would.
//
// usage: node vegalite_compile.mjs <node_modules dir> <specs.json>
// specs.json is [{"name": ..., "spec": {...}}, ...]. Prints one JSON line per
// spec: {"name", "ok", "error", "warnings", "rows", "marks", "svgBytes"}.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [modulesDir, specsPath] = process.argv.slice(2);
const require = createRequire(join(modulesDir, 'noop.js'));
const vl = require('vega-lite');
const vega = require('vega');

const specs = JSON.parse(readFileSync(specsPath, 'utf8'));

// Property names the Vega-Lite JSON schema (shipped in the package) allows:
// vl.compile ignores unknown keys silently, so check them here.
const schema = JSON.parse(readFileSync(join(modulesDir, 'vega-lite', 'build', 'vega-lite-schema.json'), 'utf8'));
const allowed = (def) => new Set(Object.keys(schema.definitions[def].properties));
const topKeys = allowed('TopLevelUnitSpec');
const markKeys = allowed('MarkDef');
const encKeys = allowed('Encoding');
function unknownKeys(spec) {
  const bad = [];
  for (const k of Object.keys(spec)) if (!topKeys.has(k)) bad.push(k);
  if (spec.mark && typeof spec.mark === 'object') {
    for (const k of Object.keys(spec.mark)) if (!markKeys.has(k)) bad.push('mark.' + k);
  }
  for (const k of Object.keys(spec.encoding || {})) if (!encKeys.has(k)) bad.push('encoding.' + k);
  return bad;
}
for (const { name, spec } of specs) {
  const warnings = [];
  const logger = {
    level(l) { return l === undefined ? 2 : this; },
    warn(...a) { warnings.push(a.join(' ')); return this; },
    info() { return this; },
    debug() { return this; },
    error(...a) { throw new Error(a.join(' ')); },
  };
  const out = { name, ok: false, version: vl.version, warnings };
  try {
    const bad = unknownKeys(spec);
    if (bad.length) throw new Error('properties not in the Vega-Lite schema: ' + bad.join(', '));
    const compiled = vl.compile(spec, { logger });
    const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
    view.logger({ level: () => 2, warn: (...a) => warnings.push(a.join(' ')), info() {}, debug() {}, error: (...a) => { throw new Error(a.join(' ')); } });
    await view.runAsync();
    const svg = await view.toSVG();
    out.svgBytes = svg.length;
    // Rows that reached the first data source: the inline values.
    const source = compiled.spec.data.find((d) => Array.isArray(d.values));
    out.rows = source ? view.data(source.name).length : -1;
    // Count drawn mark items (bars, points, line segments, rects).
    out.marks = (svg.match(/<path|<line|<rect|<circle/g) || []).length;
    out.ok = true;
  } catch (e) {
    out.error = String(e && e.stack || e);
  }
  console.log(JSON.stringify(out));
}
