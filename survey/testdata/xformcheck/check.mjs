// check.mjs loads an ODK XForm in ODK's own XForms engine
// (@getodk/xforms-engine, the engine behind ODK Web Forms) and fails on any
// error. With a cases file it also fills the form as an enumerator would and
// compares the engine's relevance and validation with what papi expects.
//
//   XFORMCHECK_MODULES=/path/to/node_modules node check.mjs FORM.xml [CASES.json]
//
// CASES.json: {"languages": [...], "questions": [paths], "version": "…",
//   "cases": [{"name", "set": [[path, value], …], "relevant": [paths],
//              "violations": [paths]}]}
// A select_multiple value is space-separated, as in ODK's instance data.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const modules = process.env.XFORMCHECK_MODULES;
if (!modules) {
  console.error('xformcheck: set XFORMCHECK_MODULES to the node_modules folder holding @getodk/xforms-engine and jsdom');
  process.exit(2);
}
const [formPath, casesPath] = process.argv.slice(2);
if (!formPath) {
  console.error('usage: node check.mjs FORM.xml [CASES.json]');
  process.exit(2);
}

const { JSDOM } = await import(pathToFileURL(join(modules, 'jsdom', 'lib', 'api.js')).href);
const dom = new JSDOM('');
for (const name of ['DOMParser', 'XMLSerializer', 'Node', 'Document', 'Element', 'XPathResult']) {
  globalThis[name] ??= dom.window[name];
}
globalThis.document ??= dom.window.document;
// The engine's ES module build locates its XPath parser's WebAssembly file
// through __dirname when it runs under Node; ES modules have none, so give it
// the folder of the build.
const engineDir = join(modules, '@getodk', 'xforms-engine', 'dist');
globalThis.__dirname = engineDir;
const { loadForm } = await import(pathToFileURL(join(engineDir, 'index.js')).href);

const failures = [];
const fail = (msg) => failures.push(msg);

const xml = readFileSync(formPath, 'utf8');
const result = await loadForm(xml);
if (result.status !== 'success') {
  console.error(`xformcheck: ${formPath}: the engine did not load the form (${result.status})`);
  for (const w of result.warnings ?? []) console.error('  warning:', w.message ?? w);
  if (result.error) console.error('  error:', result.error.message, (result.error.causes ?? result.error.cause ?? ''));
  process.exit(1);
}

// nodes maps each instance node's reference to the engine's node.
function index(root) {
  const nodes = new Map();
  const visit = (n) => {
    nodes.set(n.currentState.reference, n);
    for (const c of n.currentState.children ?? []) visit(c);
  };
  visit(root);
  return nodes;
}

function setValue(node, value) {
  switch (node.nodeType) {
    case 'select':
      if (node.selectType === 'select') node.selectValues(value === '' ? [] : value.split(' '));
      else node.selectValue(value === '' ? null : value);
      return;
    case 'input':
      node.setValue(value);
      return;
    default:
      throw new Error(`cannot set a ${node.nodeType} node`);
  }
}

const cases = casesPath ? JSON.parse(readFileSync(casesPath, 'utf8')) : null;
const first = result.createInstance();
const root = first.root;

// Every control shows a label in every language of the form.
const langs = root.languages.map((l) => l.language);
if (cases && JSON.stringify(langs) !== JSON.stringify(cases.languages)) {
  fail(`languages: got ${JSON.stringify(langs)}, want ${JSON.stringify(cases.languages)}`);
}
let controls = 0;
for (const lang of root.languages) {
  root.setLanguage(lang);
  for (const [ref, n] of index(root)) {
    if (!['select', 'input', 'group'].includes(n.nodeType)) continue;
    if (n.appearances?.label) continue; // a table-list's column headings
    if (lang === root.languages[0]) controls++;
    const label = n.currentState.label?.asString ?? '';
    if (label.trim() === '' && n.nodeType !== 'group') fail(`${ref}: no label in ${lang.language}`);
    if (n.nodeType === 'select') {
      for (const item of n.currentState.valueOptions) {
        if ((item.label?.asString ?? '').trim() === '') fail(`${ref}: option ${item.value} has no label in ${lang.language}`);
      }
    }
  }
}
root.setLanguage(root.languages[0]);

// What the device fills in by itself.
const nodes = index(root);
const instanceID = nodes.get('/data/meta/instanceID')?.currentState.value ?? '';
if (!/^uuid:[0-9a-f-]{36}$/.test(instanceID)) fail(`/data/meta/instanceID: got ${JSON.stringify(instanceID)}, want uuid:…`);
if (cases?.version) {
  const v = nodes.get('/data/papi_version')?.currentState.value;
  if (v !== cases.version) fail(`/data/papi_version: got ${JSON.stringify(v)}, want ${JSON.stringify(cases.version)}`);
}

for (const c of cases?.cases ?? []) {
  const inst = result.createInstance();
  const byRef = index(inst.root);
  try {
    for (const [ref, value] of c.set) {
      const n = byRef.get(ref);
      if (!n) throw new Error(`${ref}: no such node`);
      if (!n.currentState.relevant) throw new Error(`${ref}: not relevant when its answer is given`);
      setValue(n, value);
    }
  } catch (e) {
    fail(`case ${c.name}: ${e.message}`);
    continue;
  }
  const want = new Set(c.relevant);
  for (const ref of cases.questions) {
    const n = byRef.get(ref);
    if (!n) { fail(`case ${c.name}: ${ref}: no such node`); continue; }
    if (n.currentState.relevant !== want.has(ref)) {
      fail(`case ${c.name}: ${ref}: relevant ${n.currentState.relevant}, want ${want.has(ref)}`);
    }
  }
  const got = inst.root.validationState.violations.map((v) => v.reference).sort();
  const wantViolations = [...(c.violations ?? [])].sort();
  if (JSON.stringify(got) !== JSON.stringify(wantViolations)) {
    fail(`case ${c.name}: violations ${JSON.stringify(got)}, want ${JSON.stringify(wantViolations)}`);
  }
}

if (failures.length > 0) {
  for (const f of failures.slice(0, 50)) console.error('xformcheck:', f);
  if (failures.length > 50) console.error(`xformcheck: … and ${failures.length - 50} more`);
  process.exit(1);
}
console.log(`xformcheck: ${formPath}: loaded; ${controls} controls labelled in ${langs.length} languages; ${cases?.cases?.length ?? 0} cases agree`);
