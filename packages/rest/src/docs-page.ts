/**
 * The /docs page: plain HTML with a small inline script that renders /openapi.json. No CDN, no
 * external font or script, so it works offline and under a strict Content-Security-Policy of its own.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Engram REST API</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 2rem; color: #1d1d1f; }
h1 { margin-bottom: 0; } .lead { color: #555; }
details { border: 1px solid #ddd; border-radius: 6px; margin: .4rem 0; padding: .3rem .8rem; }
summary { cursor: pointer; } code, pre { font: 13px ui-monospace, monospace; }
pre { background: #f6f6f8; padding: .6rem; overflow: auto; border-radius: 4px; }
.method { display: inline-block; width: 4.5rem; font-weight: 600; text-transform: uppercase; }
.get { color: #0a7d32; } .post { color: #0b5cad; } .patch { color: #a15c00; } .delete { color: #b3261e; }
table { border-collapse: collapse; } td, th { border-bottom: 1px solid #eee; padding: .2rem .6rem; text-align: left; vertical-align: top; }
</style>
</head>
<body>
<h1>Engram REST API</h1>
<p class="lead">Generated from <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Send <code>Authorization: Bearer &lt;key&gt;</code> when the server has API keys.</p>
<div id="routes">Loading…</div>
<script>
const escape = (value) => String(value ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const schemaText = (schema) => escape(JSON.stringify(schema, null, 2));
fetch('/openapi.json').then((response) => response.json()).then((spec) => {
  const parts = [];
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = (operation.parameters ?? []).map((p) => '<tr><td><code>' + escape(p.name) + '</code></td><td>' + escape(p.in) + (p.required ? ', required' : '') + '</td><td>' + escape(p.description ?? (p.schema && p.schema.type)) + '</td></tr>').join('');
      const body = operation.requestBody ? Object.entries(operation.requestBody.content).map(([type, content]) => '<p>Body (<code>' + escape(type) + '</code>):</p><pre>' + schemaText(content.schema) + '</pre>').join('') : '';
      const responses = Object.entries(operation.responses ?? {}).map(([status, response]) => '<tr><td>' + escape(status) + '</td><td>' + escape(response.description) + '</td></tr>').join('');
      parts.push('<details><summary><span class="method ' + method + '">' + method + '</span><code>' + escape(path) + '</code> — ' + escape(operation.summary) + '</summary>' +
        (operation.description ? '<p>' + escape(operation.description) + '</p>' : '') +
        (parameters ? '<table><tr><th>parameter</th><th>in</th><th></th></tr>' + parameters + '</table>' : '') + body +
        '<table><tr><th>status</th><th>meaning</th></tr>' + responses + '</table></details>');
    }
  }
  const schemas = Object.entries(spec.components?.schemas ?? {}).map(([name, schema]) => '<details><summary><code>' + escape(name) + '</code></summary><pre>' + schemaText(schema) + '</pre></details>').join('');
  document.getElementById('routes').innerHTML = parts.join('') + '<h2>Schemas</h2>' + schemas;
}).catch((error) => { document.getElementById('routes').textContent = 'Could not load /openapi.json: ' + error; });
</script>
</body>
</html>
`;
