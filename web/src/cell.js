// One notebook cell: a CodeMirror editor, and for code cells the outputs, progress and the
// calculation that ran it; Markdown cells show their rendering until edited.
import { EditorView, keymap, lineNumbers, drawSelection, highlightActiveLine, highlightSpecialChars } from '@codemirror/view';
import { EditorState, Prec } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, indentOnInput, syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { python } from '@codemirror/lang-python';
import { renderOutput, text } from './outputs.js';
import { renderMarkdown } from './markdown.js';
import { uuid } from './kernel.js';

function el(tag, cls, content) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (content != null) e.textContent = content;
  return e;
}

function button(label, title, onclick) {
  const b = el('button', null, label);
  b.type = 'button';
  b.title = title;
  b.setAttribute('aria-label', title);
  b.onclick = (e) => { e.stopPropagation(); onclick(); };
  return b;
}

export class Cell {
  constructor(nb, data) {
    this.nb = nb;
    this.type = data.cell_type === 'markdown' ? 'markdown' : data.cell_type === 'raw' ? 'raw' : 'code';
    this.id = data.id || uuid().slice(0, 8);
    this.metadata = data.metadata || {};
    this.attachments = data.attachments;
    this.outputs = data.outputs || [];
    this.executionCount = data.execution_count ?? null;
    this.build(text(data.source));
  }

  build(source) {
    const root = (this.root = el('div', `cell ${this.type}`));
    root.dataset.cellId = this.id;
    root.onclick = () => this.nb.select(this);
    this.prompt = el('div', 'prompt');
    const body = el('div', 'body');
    const tools = el('div', 'tools');
    tools.append(
      button('▶', 'Run this cell (Shift-Enter)', () => this.run()),
      button('↑', 'Move up', () => this.nb.move(this, -1)),
      button('↓', 'Move down', () => this.nb.move(this, 1)),
      button('✕', 'Delete cell', () => this.nb.remove(this)),
    );
    const run = (next) => () => { this.run(); if (next) this.nb.selectNext(this); return true; };
    this.view = new EditorView({
      parent: body,
      state: EditorState.create({
        doc: source,
        extensions: [
          Prec.highest(keymap.of([
            { key: 'Shift-Enter', run: run(true) },
            { key: 'Mod-Enter', run: run(false) },
          ])),
          lineNumbers(), highlightSpecialChars(), history(), drawSelection(), indentOnInput(),
          bracketMatching(), closeBrackets(), highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
          this.type === 'code' ? python() : [],
          EditorView.lineWrapping,
          EditorView.editorAttributes.of({ class: 'editor' }),
          EditorView.updateListener.of((u) => { if (u.docChanged) this.nb.changed(); if (u.focusChanged && u.view.hasFocus) this.nb.select(this); }),
        ],
      }),
    });
    if (this.type === 'markdown') {
      this.rendered = el('div', 'markdown rendered');
      this.rendered.ondblclick = () => this.edit();
      body.append(this.rendered);
      if (source.trim()) this.render();
    }
    if (this.type === 'code') {
      this.progress = el('div', 'progress');
      this.progress.append(el('div', 'bar'), el('span', 'text'));
      this.outputsBox = el('div', 'outputs');
      this.calc = el('div', 'calc');
      body.append(this.progress, this.outputsBox, this.calc);
      for (const o of this.outputs) this.outputsBox.append(renderOutput(o));
      this.showPrompt();
      this.showCalculation(this.metadata.glaux);
    }
    root.append(this.prompt, body, tools);
  }

  source() { return this.view.state.doc.toString(); }

  focus() {
    if (!this.root.classList.contains('shown')) this.view.focus();
  }

  edit() {
    this.root.classList.remove('shown');
    this.root.classList.add('editing');
    this.view.focus();
  }

  render() {
    this.rendered.innerHTML = renderMarkdown(this.source());
    this.root.classList.add('shown');
    this.root.classList.remove('editing');
  }

  showPrompt(running) {
    if (this.type !== 'code') return;
    this.prompt.textContent = running ? '[*]' : `[${this.executionCount ?? ' '}]`;
  }

  run() {
    if (this.type === 'markdown') return this.render();
    if (this.type !== 'code') return;
    const k = this.nb.kernel;
    this.outputs = [];
    this.outputsBox.replaceChildren();
    this.showCalculation(null);
    this.root.classList.remove('ok', 'error', 'aborted');
    this.root.classList.add('running');
    this.showPrompt(true);
    this.setProgress('Waiting for the session', -1);
    this.nb.changed();
    this.msgId = k.execute(this.source(), {
      iopub: (m) => this.onIOPub(m),
      reply: (m) => this.onReply(m),
      lost: () => this.finish('aborted', 'Connection lost: the calculation goes on in the session (see ListCalculationExecutions).'),
    });
  }

  onIOPub(m) {
    const c = m.content;
    const t = m.header.msg_type;
    if (m.metadata.calculation_id && !this.calcId) this.showCalculation({ calculation_id: m.metadata.calculation_id });
    if (t === 'glaux_progress') return this.setProgress(c.text, c.fraction);
    if (t === 'stream') {
      const last = this.outputs[this.outputs.length - 1];
      if (last && last.output_type === 'stream' && last.name === c.name) {
        last.text += c.text;
        this.outputsBox.lastChild.replaceWith(renderOutput(last));
        return;
      }
      return this.addOutput({ output_type: 'stream', name: c.name, text: c.text });
    }
    if (t === 'display_data') return this.addOutput({ output_type: 'display_data', data: c.data, metadata: c.metadata || {} });
    if (t === 'execute_result') return this.addOutput({ output_type: 'execute_result', execution_count: c.execution_count, data: c.data, metadata: c.metadata || {} });
    if (t === 'error') return this.addOutput({ output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback || [] });
  }

  onReply(m) {
    this.executionCount = m.content.execution_count ?? this.executionCount;
    if (m.metadata.calculation_id) {
      this.metadata.glaux = {
        calculation_id: m.metadata.calculation_id, state: m.metadata.calculation_state,
        stdout: m.metadata.stdout_s3_uri, stderr: m.metadata.stderr_s3_uri, result: m.metadata.result_s3_uri,
      };
      this.showCalculation(this.metadata.glaux);
    }
    this.finish(m.content.status, m.content.status === 'aborted' && !m.metadata.calculation_id ? 'Not run: a cell before it failed.' : null);
  }

  finish(status, note) {
    this.root.classList.remove('running');
    this.root.classList.add(status);
    this.showPrompt(false);
    this.setProgress(null);
    if (note) this.addOutput({ output_type: 'stream', name: 'stderr', text: note + '\n' });
    this.nb.changed();
  }

  addOutput(o) {
    this.outputs.push(o);
    this.outputsBox.append(renderOutput(o));
    this.nb.changed();
  }

  setProgress(label, fraction) {
    this.progress.classList.toggle('on', label != null);
    this.progress.classList.toggle('indeterminate', fraction == null || fraction < 0);
    this.progress.firstChild.style.width = `${Math.round(Math.max(0, fraction || 0) * 100)}%`;
    this.progress.lastChild.textContent = label || '';
  }

  // The calculation that ran the cell, and where its result objects are (s3:// URIs).
  showCalculation(g) {
    this.calcId = g && g.calculation_id;
    this.calc.replaceChildren();
    if (!g) return;
    this.calc.append('Calculation ', el('code', 'calc-id', g.calculation_id));
    if (g.state) this.calc.append(' ', el('span', `state ${g.state}`, g.state));
    if (!g.result) return;
    const dir = g.result.slice(0, g.result.lastIndexOf('/') + 1);
    this.calc.append(' · results in ', el('code', 'dir', dir));
    for (const name of ['stdout', 'stderr', 'result']) {
      const uri = g[name];
      if (!uri) continue;
      const c = el('code', 'uri', uri.startsWith(dir) ? uri.slice(dir.length) : uri);
      c.title = `${uri} (click to copy)`;
      c.dataset.uri = uri;
      c.onclick = () => navigator.clipboard && navigator.clipboard.writeText(uri);
      this.calc.append(' ', c);
    }
  }

  toJSON() {
    const source = this.source().split(/(?<=\n)/);
    const cell = { id: this.id, cell_type: this.type, metadata: this.metadata, source: this.source() ? source : [] };
    if (this.attachments) cell.attachments = this.attachments;
    if (this.type === 'code') {
      cell.execution_count = this.executionCount;
      cell.outputs = this.outputs;
    }
    return cell;
  }
}
