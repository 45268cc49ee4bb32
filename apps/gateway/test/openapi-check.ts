// Validates every response a test receives against the gateway's own OpenAPI document (ajv,
// JSON Schema 2020-12 as OpenAPI 3.1 uses): the operation is found by method and path template,
// the schema by status and content type.
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

type Json = Record<string, unknown>;

export class OpenApiResponses {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: false });
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { method: string; template: string; re: RegExp }[] = [];
  /** Operations that were answered at least once, by "METHOD template status". */
  readonly seen = new Set<string>();

  constructor(private readonly doc: Json) {
    addFormats(this.ajv);
    this.ajv.addSchema((doc.components as Json).schemas as Json, 'components');
    for (const [template, ops] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const method of Object.keys(ops)) {
        const re = new RegExp('^' + template.replace(/\{[^}]+\}/g, '[^/]+') + '$');
        this.templates.push({ method: method.toUpperCase(), template, re });
      }
    }
    // Literal paths before templated ones (/api/v1/upgrades/quarantined before /api/v1/services/{service}).
    this.templates.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  }

  /** Throws naming the operation and the first schema error when the response does not match. */
  check(method: string, url: string, status: number, contentType: string, body: unknown): void {
    const path = url.split('?')[0]!;
    const op = this.templates.find((t) => t.method === method && t.re.test(path));
    if (!op) throw new Error(`${method} ${path} is not in the OpenAPI document`);
    const operation = (this.doc.paths as Record<string, Record<string, Json>>)[op.template]![method.toLowerCase()]!;
    const response = (operation.responses as Record<string, Json>)[String(status)];
    if (!response) throw new Error(`${method} ${op.template} answered ${status}, which the document does not list`);
    const media = contentType.split(';')[0]!.trim();
    const content = (response.content as Record<string, { schema: Json }> | undefined)?.[media];
    if (!content) throw new Error(`${method} ${op.template} ${status} answered ${media}, which the document does not list`);
    const key = `${method} ${op.template} ${status} ${media}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      const schema = JSON.parse(JSON.stringify(content.schema).replace(/"#\/components\/schemas\//g, '"components#/')) as Json;
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    if (!validate(body)) throw new Error(`${key}: the response does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
    this.seen.add(`${method} ${op.template} ${status}`);
  }
}
