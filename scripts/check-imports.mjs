// `npm test` runs this: the product's modules must import one way. It fails on any import cycle
// among shared/, host/src/ and extension/src/ (type-only imports included: a cycle of types is
// still two modules that cannot be understood apart), and on an import against the layering:
// shared/ imports nothing of ours; auth/ and mailbox/ never import daemon/ (the daemon uses
// them, not the other way round). It also keeps the seams (host/src/deps.ts): outside
// host/src/io/, no module of shared/ or host/src/ imports node:fs, reads the time (Date.now,
// new Date()) or sets a timer (setTimeout, setInterval); it takes a FileSystem and a Clock
// instead. SEAM_EXCEPTIONS lists the few that may, each with its reason. Reads import and
// export-from statements of .ts files, comments left out; tests are left out. Prints each
// problem with the files involved; exit 1 when there is one.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOTS = ['shared', 'host/src', 'extension/src'];
/** [importer folder, imported folder, why] pairs that must not occur. */
const FORBIDDEN = [
  ['shared/', 'host/', 'shared/ is the protocol, used by host and extension alike'],
  ['shared/', 'extension/', 'shared/ is the protocol, used by host and extension alike'],
  ['host/src/auth/', 'host/src/daemon/', 'auth/ is used by the daemon, not the other way round'],
  ['host/src/mailbox/', 'host/src/daemon/', 'mailbox/ is used by the daemon, not the other way round'],
  ['extension/', 'host/', 'the extension talks to the host only through the protocol'],
];
/**
 * [path prefix, what it may do, why] for modules outside host/src/io/ allowed past the seams.
 * 'fs': import node:fs; 'clock': read the time or set a timer.
 */
const SEAM_EXCEPTIONS = [
  ['host/src/native/', ['fs', 'clock'], 'the native-host relay: its own entry point, bundled alone and kept tiny (it starts on every popup open); it writes its last log line synchronously on exit and times its own flush'],
];
const SEAM_CHECKED = ['shared/', 'host/src/'];
/** What goes past each seam, as it appears in code (comments stripped first). */
const PAST_SEAM = {
  fs: [/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s*)['"](?:node:)?fs(?:\/promises)?['"]/m],
  clock: [/\bDate\.now\b/, /\bnew Date\(\s*\)/, /\bset(?:Timeout|Interval)\s*\(/],
};
const SEAM_NAME = { fs: 'node:fs (use the FileSystem of deps.ts)', clock: 'the time or a timer (use the Clock of deps.ts)' };

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sources(file);
    return /\.ts$/.test(name) && !/\.(test|d)\.ts$/.test(name) ? [file] : [];
  });
}

function resolve(from, spec) {
  const base = path.join(path.dirname(from), spec).replace(/\.(m?js)$/, '');
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next form
    }
  }
  return null;
}

const files = ROOTS.flatMap(sources);
const text = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const graph = new Map(files.map((f) => [f, [...text.get(f).matchAll(IMPORT)].map((m) => resolve(f, m[1] ?? m[2])).filter(Boolean)]));
const problems = [];

for (const [from, tos] of graph) {
  for (const to of tos) {
    const rule = FORBIDDEN.find(([a, b]) => from.startsWith(a) && to.startsWith(b));
    if (rule) problems.push(`${from} imports ${to}: ${rule[2]}`);
  }
}

/** The code without its comments (a `//` after `:` is a URL's, kept). */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\])\/\/.*$/gm, '$1');
}
/** …and without the text of its '…' and "…" strings (a message may name Date.now). */
function withoutStrings(code) {
  return code.replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''");
}

for (const file of files) {
  if (!SEAM_CHECKED.some((root) => file.startsWith(root)) || file.startsWith('host/src/io/')) continue;
  const code = withoutComments(text.get(file));
  // Import specifiers are strings: the fs check reads them; the clock check does not.
  const scanned = { fs: code, clock: withoutStrings(code) };
  for (const [kind, patterns] of Object.entries(PAST_SEAM)) {
    if (!patterns.some((re) => re.test(scanned[kind]))) continue;
    if (SEAM_EXCEPTIONS.some(([prefix, kinds]) => file.startsWith(prefix) && kinds.includes(kind))) continue;
    problems.push(`${file} reaches ${SEAM_NAME[kind]} outside host/src/io/: take it in deps, or list the module in SEAM_EXCEPTIONS with its reason`);
  }
}

// Tarjan's strongly connected components: each component of more than one module is a cycle.
let index = 0;
const stack = [];
const meta = new Map();
function connect(v) {
  meta.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!meta.has(w)) {
      connect(w);
      meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).low);
    } else if (meta.get(w).onStack) meta.get(v).low = Math.min(meta.get(v).low, meta.get(w).index);
  }
  if (meta.get(v).low !== meta.get(v).index) return;
  const component = [];
  let w;
  do {
    w = stack.pop();
    meta.get(w).onStack = false;
    component.push(w);
  } while (w !== v);
  if (component.length > 1 || (graph.get(v) ?? []).includes(v)) problems.push(`import cycle: ${component.sort().join(' ↔ ')}`);
}
for (const v of graph.keys()) if (!meta.has(v)) connect(v);

for (const p of problems) console.error(`✗ ${p}`);
if (problems.length === 0) console.log(`imports: ${files.length} modules, no cycle, layering kept, node:fs and the clock only in io/ and ${SEAM_EXCEPTIONS.map(([prefix]) => prefix).join(', ')}`);
process.exit(problems.length === 0 ? 0 : 1);
