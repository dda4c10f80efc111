'use strict';
// The node's pages: shows this origin in the command lines, and runs the activation forms. Each
// submit builds the JSON body from the form, POSTs it to the activation route and shows the
// status, the answer and the equivalent curl line. What the component names comes from the
// data block and is only ever set as text, never parsed as markup.
(function () {
  for (const element of document.querySelectorAll('.origin')) {
    element.textContent = location.origin;
  }
  const block = document.getElementById('carol-activations');
  if (!block) return;
  const data = JSON.parse(block.textContent);
  const specs = new Map(data.activations.map((activation) => [activation.name, activation]));

  // The form's controls named `name`; names are compared as strings, not put in a selector.
  // Not `form.elements`: a control named `elements` would stand in its place, as named controls
  // shadow a form's properties.
  const controls = (form, name) =>
    Array.from(form.querySelectorAll('input, select, textarea')).filter((el) => el.name === name);

  // Re-indents (or, with an empty indent, compacts) valid JSON text without parsing it into
  // numbers, so 64-bit integers keep every digit.
  function reformat(text, indent) {
    let out = '';
    let depth = 0;
    const newline = () => (indent ? '\n' + indent.repeat(depth) : '');
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        let end = i + 1;
        while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
        out += text.slice(i, end + 1);
        i = end;
      } else if (c === '{' || c === '[') {
        let next = i + 1;
        while (next < text.length && /\s/.test(text[next])) next++;
        if (text[next] === '}' || text[next] === ']') {
          out += c + text[next];
          i = next;
        } else {
          depth++;
          out += c + newline();
        }
      } else if (c === '}' || c === ']') {
        depth--;
        out += newline() + c;
      } else if (c === ',') {
        out += ',' + newline();
      } else if (c === ':') {
        out += indent ? ': ' : ':';
      } else if (!/\s/.test(c)) {
        out += c;
      }
    }
    return out;
  }

  function isJson(text) {
    try {
      JSON.parse(text);
      return true;
    } catch (error) {
      return false;
    }
  }

  const shellQuote = (text) => "'" + text.replace(/'/g, "'\\''") + "'";

  // The JSON text of one argument, or undefined to leave it out: the node then answers which
  // argument is missing and what it expects.
  function encode(form, param) {
    if (param.optional && !controls(form, param.name + '.set')[0].checked) return 'null';
    const elements = controls(form, param.name);
    const first = elements[0];
    const text = first ? first.value : '';
    switch (param.kind) {
      case 'bool':
        return String(first.checked);
      case 'flags':
        return JSON.stringify(elements.filter((box) => box.checked).map((box) => box.value));
      case 'int':
      case 'float':
        return text === '' ? undefined : JSON.stringify(Number(text));
      case 'int64':
        // Digit strings: a JavaScript number would round past 2^53.
        return text.trim() === '' ? undefined : JSON.stringify(text.trim());
      case 'hex':
        return JSON.stringify(text.replace(/\s+/g, ''));
      case 'json': {
        const json = text.trim();
        if (json === '') return undefined;
        if (isJson(json)) {
          first.removeAttribute('aria-invalid');
          return reformat(json, '');
        }
        // Sent as typed, so the node's answer says what is wrong with it.
        first.setAttribute('aria-invalid', 'true');
        return json;
      }
      default:
        return JSON.stringify(text);
    }
  }

  async function run(form, spec) {
    if (form.getAttribute('data-state') === 'running') return;
    const status = form.querySelector('output.status');
    const result = form.querySelector('pre.result');
    const curl = form.querySelector('pre.curl');
    const fields = [];
    for (const param of spec.params) {
      const json = encode(form, param);
      if (json !== undefined) fields.push(JSON.stringify(param.name) + ':' + json);
    }
    const body = '{' + fields.join(',') + '}';
    const path = spec.name.split('/').map(encodeURIComponent).join('/');
    const url = location.origin + '/machines/' + encodeURIComponent(data.machine) +
      '/activate/' + path;
    form.setAttribute('data-state', 'running');
    status.textContent = '';
    status.removeAttribute('data-ok');
    result.textContent = '';
    curl.textContent = 'curl ' + shellQuote(url) +
      " -H 'content-type: application/json' -d " + shellQuote(body);
    let code = '';
    let answer;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
      });
      code = String(response.status);
      status.setAttribute('data-ok', String(response.ok));
      answer = await response.text();
    } catch (error) {
      answer = 'The request failed: ' + error.message;
    }
    status.textContent = code;
    result.textContent = isJson(answer) ? reformat(answer, '  ') : answer;
    form.setAttribute('data-state', 'done');
  }

  for (const form of document.querySelectorAll('form.activation-form')) {
    const spec = specs.get(form.getAttribute('data-activation'));
    if (!spec) continue;
    for (const param of spec.params) {
      if (!param.optional) continue;
      const set = controls(form, param.name + '.set')[0];
      const sync = () => {
        for (const element of controls(form, param.name)) element.disabled = !set.checked;
      };
      set.addEventListener('change', sync);
      // Browsers restore checkbox states on back and forward navigation.
      sync();
    }
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run(form, spec);
    });
  }
})();
