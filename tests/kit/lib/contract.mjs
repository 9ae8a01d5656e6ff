// Checking live HTTP answers against docs/openapi.yaml: find the operation
// of a request, the documented response of its status, then validate the
// content type, the required headers and the body (JSON Schema 2020-12, as
// OpenAPI 3.1 uses). Every (path, method, status) checked is remembered, so
// a test can tell which documented answers it never saw.
import fs from 'node:fs';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const pointerPart = (s) => String(s).replaceAll('~', '~0').replaceAll('/', '~1');

export class Contract {
  constructor(file) {
    this.doc = YAML.parse(fs.readFileSync(file, 'utf8'));
    // OpenAPI keywords beside schemas (example, description of a $ref) are not JSON Schema's.
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    this.ajv.addSchema(this.doc, 'openapi');
    this.validators = new Map();
    this.seen = new Set();
  }

  // Every documented answer as "METHOD /template STATUS".
  documented() {
    const out = [];
    for (const [template, item] of Object.entries(this.doc.paths)) {
      for (const method of METHODS) {
        if (!item[method]) continue;
        for (const status of Object.keys(item[method].responses)) out.push(`${method.toUpperCase()} ${template} ${status}`);
      }
    }
    return out;
  }

  // The path template of a concrete path (literal segments win over {params}).
  template(urlPath) {
    const segs = urlPath.split('?')[0].split('/');
    let best = null;
    let bestLiterals = -1;
    for (const template of Object.keys(this.doc.paths)) {
      const t = template.split('/');
      if (t.length !== segs.length) continue;
      const ok = t.every((s, i) => (s.startsWith('{') ? segs[i] !== '' : s === segs[i]));
      const literals = t.filter((s) => !s.startsWith('{')).length;
      if (ok && literals > bestLiterals) [best, bestLiterals] = [template, literals];
    }
    return best;
  }

  // A `$ref` to this document resolved, with the pointer of what it names.
  deref(node, pointer) {
    while (node && node.$ref) {
      pointer = node.$ref.slice(1);
      node = pointer.split('/').slice(1).reduce((n, p) => n[p.replaceAll('~1', '/').replaceAll('~0', '~')], this.doc);
    }
    return { node, pointer };
  }

  validator(pointer) {
    if (!this.validators.has(pointer)) this.validators.set(pointer, this.ajv.compile({ $ref: `openapi#${pointer}` }));
    return this.validators.get(pointer);
  }

  // The documented response for a request and its status; throws when there is none.
  response(method, urlPath, status) {
    const template = this.template(urlPath);
    if (!template) throw new Error(`${urlPath}: no such path in the document`);
    const op = this.doc.paths[template][method.toLowerCase()];
    if (!op) throw new Error(`${method} ${template}: no such operation in the document`);
    const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => op.responses[k]);
    if (!key) throw new Error(`${method} ${template}: status ${status} is not documented`);
    const base = `/paths/${pointerPart(template)}/${method.toLowerCase()}/responses/${key}`;
    return { id: `${method.toUpperCase()} ${template} ${key}`, ...this.deref(op.responses[key], base) };
  }

  // Validate one answer ({status, headers, text}) against a documented response.
  check(answer, { node, pointer, id }) {
    const problems = [];
    for (const [name, header] of Object.entries(node.headers || {})) {
      const value = answer.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is missing`);
        continue;
      }
      const schema = header.schema || {};
      const typed = schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      const validate = this.validator(`${pointer}/headers/${pointerPart(name)}/schema`);
      if (!validate(typed)) problems.push(`header ${name}: ${value}: ${this.ajv.errorsText(validate.errors)}`);
    }
    problems.push(...this.checkBody(answer, node, pointer));
    if (problems.length) throw new Error(`${id}: ${problems.join('; ')}\nbody: ${answer.text.slice(0, 500)}`);
    this.seen.add(id);
  }

  checkBody(answer, node, pointer) {
    const types = Object.keys(node.content || {});
    if (!types.length) return answer.text ? ['a body where none is documented'] : [];
    const type = (answer.headers['content-type'] || '').split(';')[0].trim();
    if (!types.includes(type)) return [`content type '${type}' is not one of ${types.join(', ')}`];
    let body = answer.text;
    if (type === 'application/json') {
      try {
        body = JSON.parse(answer.text);
      } catch {
        return ['the body is not JSON'];
      }
    }
    const validate = this.validator(`${pointer}/content/${pointerPart(type)}/schema`);
    return validate(body) ? [] : [`body: ${this.ajv.errorsText(validate.errors)}`];
  }

  // Check an answer against the document's response named by `ref` (e.g. for paths not listed).
  checkAgainst(answer, ref, id = ref) {
    const { node, pointer } = this.deref({ $ref: ref }, '');
    this.check(answer, { node, pointer, id });
  }

  // A 405 for a method a listed path does not document: its Allow names
  // exactly the documented methods (HEAD aside, which GET routes answer).
  checkNotAllowed(answer, method, urlPath) {
    const template = this.template(urlPath);
    const item = this.doc.paths[template];
    if (!template || item[method.toLowerCase()]) throw new Error(`${method} ${urlPath}: not an undocumented method of a listed path`);
    const allowed = (answer.headers.allow || '').split(', ').filter((m) => m && m !== 'HEAD').sort();
    const documented = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).sort();
    if (allowed.join() !== documented.join()) throw new Error(`${template}: Allow '${answer.headers.allow}', documented ${documented.join(', ')}`);
    this.checkAgainst(answer, '#/components/responses/MethodNotAllowed', `405 ${template}`);
  }

  // Every listed path that should answer 405 to an undocumented method.
  paths() {
    return Object.keys(this.doc.paths);
  }
}
