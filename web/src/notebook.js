// The notebook: its cells in order, loading and saving it as nbformat 4.
import { Cell } from './cell.js';

export class Notebook {
  constructor(root, kernel, onDirty) {
    this.root = root;
    this.kernel = kernel;
    this.onDirty = onDirty;
    this.cells = [];
    this.dirty = false;
  }

  load(doc) {
    this.doc = doc;
    for (const data of doc.cells || []) this.insert(new Cell(this, data), this.cells.length);
    if (!this.cells.length) this.add('code');
    this.select(this.cells[0]);
    this.setDirty(false);
  }

  insert(cell, index) {
    this.cells.splice(index, 0, cell);
    const after = this.cells[index + 1];
    this.root.insertBefore(cell.root, after ? after.root : null);
    return cell;
  }

  // add puts a new cell after the selected one.
  add(type) {
    const i = this.selected ? this.cells.indexOf(this.selected) + 1 : this.cells.length;
    const cell = this.insert(new Cell(this, { cell_type: type, source: '' }), i);
    if (type === 'markdown') cell.edit();
    this.select(cell);
    cell.view.focus();
    this.changed();
    return cell;
  }

  remove(cell) {
    const i = this.cells.indexOf(cell);
    this.cells.splice(i, 1);
    cell.root.remove();
    cell.view.destroy();
    if (this.selected === cell) this.selected = null;
    if (this.cells.length) this.select(this.cells[Math.min(i, this.cells.length - 1)]);
    this.changed();
  }

  move(cell, delta) {
    const i = this.cells.indexOf(cell);
    const j = i + delta;
    if (j < 0 || j >= this.cells.length) return;
    this.cells.splice(i, 1);
    this.insert(cell, j);
    cell.root.scrollIntoView({ block: 'nearest' });
    this.changed();
  }

  select(cell) {
    if (this.selected === cell) return;
    this.selected?.root.classList.remove('selected');
    this.selected = cell;
    cell.root.classList.add('selected');
  }

  // selectNext moves on after Shift-Enter, adding a cell at the end as Jupyter does.
  selectNext(cell) {
    const next = this.cells[this.cells.indexOf(cell) + 1];
    if (!next) return this.add('code');
    this.select(next);
    next.focus();
    next.root.scrollIntoView({ block: 'nearest' });
  }

  runAll() {
    for (const c of this.cells) c.run();
  }

  changed() { this.setDirty(true); }

  setDirty(d) {
    this.dirty = d;
    this.onDirty(d);
  }

  toJSON() {
    const doc = this.doc || {};
    return {
      ...doc,
      cells: this.cells.map((c) => c.toJSON()),
      metadata: doc.metadata || {},
      nbformat: 4,
      nbformat_minor: Math.max(doc.nbformat_minor || 0, 5), // cell ids
    };
  }
}
